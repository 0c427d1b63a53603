/*
 * Unit tests of the m_jump loop (mjump_core.h) on small arrays:
 *  - one pass of columns writes every line start exactly once, with its
 *    offset as the value, and nothing between lines;
 *  - a column writes size/jump lines jump bytes apart; columns wrap per pass;
 *  - writes per pass match the columns' sum, also when size is not a
 *    multiple of jump; bad shapes are named.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../mjump_core.h"

#include "check.h"

static void test_one_pass(uint64_t size)
{
	struct mjump_shape s = { .size_bytes = size, .line_bytes = 64, .jump_bytes = 8192 };
	CHECK_MSG(mjump_shape_problem(&s) == NULL, "shape of %llu bytes is valid", (unsigned long long)size);
	uint8_t *a = malloc(size);
	if (!a) {
		CHECK_MSG(0, "malloc");
		return;
	}
	memset(a, 0xee, size);
	uint64_t writes = 0, cols = mjump_columns_per_pass(&s);
	CHECK_MSG(cols == 128, "8 KiB jump / 64 B line = 128 columns, got %llu", (unsigned long long)cols);
	for (uint64_t c = 0; c < cols; c++) {
		uint64_t w = mjump_column(a, &s, c);
		uint64_t expect = (size - c * 64 - 4) / 8192 + 1;
		CHECK_MSG(w == expect, "column %llu: %llu writes, expected %llu", (unsigned long long)c,
		      (unsigned long long)w, (unsigned long long)expect);
		writes += w;
	}
	CHECK_MSG(writes == mjump_writes_per_pass(&s), "pass: %llu writes, mjump_writes_per_pass %llu",
	      (unsigned long long)writes, (unsigned long long)mjump_writes_per_pass(&s));
	CHECK_MSG(writes == size / 64, "every line once: %llu writes for %llu lines", (unsigned long long)writes,
	      (unsigned long long)(size / 64));
	uint64_t bad = 0;
	for (uint64_t i = 0; i + 4 <= size; i += 4) {
		uint32_t v;
		memcpy(&v, a + i, sizeof(v));
		bad += i % 64 == 0 ? v != (uint32_t)i : v != 0xeeeeeeeeu;
	}
	CHECK_MSG(bad == 0, "%llu words wrong after one pass over %llu bytes", (unsigned long long)bad,
	      (unsigned long long)size);
	free(a);
}

static void test_column_order(void)
{
	struct mjump_shape s = { .size_bytes = 4 * 8192, .line_bytes = 64, .jump_bytes = 8192 };
	static uint8_t a[4 * 8192];
	memset(a, 0, sizeof(a));
	CHECK_MSG(mjump_column(a, &s, 3) == 4, "column 3 writes 4 lines");
	uint64_t right = 0, wrong = 0;
	for (uint64_t i = 0; i < sizeof(a); i += 4) {
		uint32_t v;
		memcpy(&v, a + i, sizeof(v));
		if (i % 8192 == 3 * 64)
			right += v == (uint32_t)i;
		else
			wrong += v != 0;
	}
	CHECK_MSG(right == 4 && wrong == 0, "column 3 writes offsets 192 + k * 8192 only (%llu right, %llu stray)",
	      (unsigned long long)right, (unsigned long long)wrong);
	memset(a, 0, sizeof(a));
	mjump_column(a, &s, 128 + 3);   /* the next pass: same column */
	uint32_t v;
	memcpy(&v, a + 8192 + 192, sizeof(v));
	CHECK_MSG(v == 8192 + 192, "columns wrap after a pass");
}

static void test_problems(void)
{
	struct mjump_shape ok = { .size_bytes = 6u << 20, .line_bytes = 64, .jump_bytes = 8192 };
	CHECK_MSG(mjump_shape_problem(&ok) == NULL, "the paper's shape is valid");
	CHECK_MSG(mjump_writes_per_pass(&ok) == (6u << 20) / 64, "paper: 98304 writes per pass");
	struct mjump_shape bad = ok;
	bad.line_bytes = 6;
	CHECK_MSG(mjump_shape_problem(&bad) != NULL, "line 6 rejected");
	bad = ok;
	bad.jump_bytes = 100;
	CHECK_MSG(mjump_shape_problem(&bad) != NULL, "jump not a multiple of line rejected");
	bad = ok;
	bad.size_bytes = 4096;
	CHECK_MSG(mjump_shape_problem(&bad) != NULL, "size below one jump rejected");
}

int main(void)
{
	test_one_pass(64u << 10);
	test_one_pass((64u << 10) + 4096);   /* not a multiple of the jump */
	test_column_order();
	test_problems();
	if (check_failures)
		fprintf(stderr, "%d failure(s)\n", check_failures);
	return check_failures ? 1 : 0;
}
