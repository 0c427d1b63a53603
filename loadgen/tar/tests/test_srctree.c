/*
 * Unit tests of the tar load's tree generator (srctree.h), no files written:
 *  - sizes sum to the total exactly, most files are small, some are large;
 *  - the same seed gives the same paths, sizes and bytes; another seed differs;
 *  - a file's bytes fill exactly its size, end in a newline, hold no NUL,
 *    and do not depend on the order files are made in;
 *  - paths are unique, two folder levels deep;
 *  - shapes that cannot be made are named (option validation).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../srctree.h"

#include "check.h"

/* FNV-1a over every path, size and byte of the tree */
static uint64_t tree_hash(const struct srctree_plan *p)
{
	uint64_t h = 0xcbf29ce484222325ull;
	char path[256];
	char *buf = malloc(1 << 20);
	if (!buf)
		return 0;
	for (uint32_t i = 0; i < p->files; i++) {
		if (srctree_path(p, i, path, sizeof(path)) != 0)
			path[0] = '\0';
		srctree_fill(p->seed, i, buf, p->size[i]);
		for (const char *c = path; *c; c++)
			h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
		for (uint32_t k = 0; k < p->size[i]; k++)
			h = (h ^ (uint8_t)buf[k]) * 0x100000001b3ull;
	}
	free(buf);
	return h;
}

static void test_sizes(void)
{
	struct srctree_plan p;
	uint64_t total = 32ull << 20;
	CHECK(srctree_plan_make(&p, 1, total, 4000) == 0);
	uint64_t sum = 0, small = 0, large = 0, biggest = 0;
	for (uint32_t i = 0; i < p.files; i++) {
		sum += p.size[i];
		small += p.size[i] < 16384;
		large += p.size[i] >= 65536;
		biggest = p.size[i] > biggest ? p.size[i] : biggest;
	}
	CHECK_EQ_U64(sum, total);
	CHECK_MSG(small > p.files * 6 / 10, "most files a few KiB: %llu of %u under 16 KiB", (unsigned long long)small,
		  p.files);
	CHECK_MSG(large > 0 && large < p.files / 10, "some large files: %llu of %u at 64 KiB or more",
		  (unsigned long long)large, p.files);
	CHECK_MSG(biggest < (1u << 20), "no file of 1 MiB or more: %llu", (unsigned long long)biggest);
	srctree_plan_free(&p);

	/* a total that is not a multiple of anything: still exact */
	CHECK(srctree_plan_make(&p, 7, 1000003, 333) == 0);
	sum = 0;
	for (uint32_t i = 0; i < p.files; i++)
		sum += p.size[i];
	CHECK_EQ_U64(sum, 1000003);
	srctree_plan_free(&p);
}

static void test_determinism(void)
{
	struct srctree_plan a, b, c;
	CHECK(srctree_plan_make(&a, 42, 2u << 20, 300) == 0);
	CHECK(srctree_plan_make(&b, 42, 2u << 20, 300) == 0);
	CHECK(srctree_plan_make(&c, 43, 2u << 20, 300) == 0);
	CHECK(memcmp(a.size, b.size, sizeof(*a.size) * a.files) == 0);
	CHECK(memcmp(a.size, c.size, sizeof(*a.size) * a.files) != 0);
	uint64_t ha = tree_hash(&a), hb = tree_hash(&b), hc = tree_hash(&c);
	CHECK_MSG(ha == hb, "same seed, same tree: %llx vs %llx", (unsigned long long)ha, (unsigned long long)hb);
	CHECK_MSG(ha != hc, "another seed, another tree");
	srctree_plan_free(&a);
	srctree_plan_free(&b);
	srctree_plan_free(&c);
}

static void test_fill(void)
{
	char x[5000], y[5000];
	memset(x, 0, sizeof(x));
	memset(y, 0, sizeof(y));
	srctree_fill(9, 17, x, 4096);
	srctree_fill(9, 3, y, 100);      /* another file first: no shared state */
	srctree_fill(9, 17, y, 4096);
	CHECK(memcmp(x, y, 4096) == 0);
	CHECK(x[4095] == '\n');
	CHECK(x[4096] == 0);             /* nothing past the size */
	CHECK(memchr(x, 0, 4096) == NULL);
	CHECK(strstr(x, "SPDX") == x + 3);
	/* a file shorter than its header line still fills exactly, ending in a newline */
	memset(x, 0, sizeof(x));
	srctree_fill(9, 17, x, 10);
	CHECK(x[9] == '\n' && x[10] == 0);
	srctree_fill(9, 17, x, 0);       /* nothing to write: no crash */
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_paths(void)
{
	struct srctree_plan p;
	CHECK(srctree_plan_make(&p, 5, 1u << 20, 1000) == 0);
	char **paths = calloc(p.files, sizeof(*paths));
	if (!paths) {
		CHECK_MSG(0, "calloc");
		return;
	}
	for (uint32_t i = 0; i < p.files; i++) {
		paths[i] = malloc(256);
		if (!paths[i] || srctree_path(&p, i, paths[i], 256) != 0) {
			CHECK_MSG(0, "path %u", i);
			return;
		}
		int slashes = 0;
		for (const char *c = paths[i]; *c; c++)
			slashes += *c == '/';
		CHECK_MSG(slashes == 2 && paths[i][0] != '/', "%s: two folder levels, relative", paths[i]);
	}
	qsort(paths, p.files, sizeof(*paths), cmp_str);
	int dups = 0;
	for (uint32_t i = 1; i < p.files; i++)
		dups += strcmp(paths[i - 1], paths[i]) == 0;
	CHECK_MSG(dups == 0, "%d duplicate paths", dups);
	for (uint32_t i = 0; i < p.files; i++)
		free(paths[i]);
	free(paths);
	char tiny[8];
	CHECK(srctree_path(&p, 999, tiny, sizeof(tiny)) == -1);
	srctree_plan_free(&p);
}

static void test_check(void)
{
	CHECK(srctree_check(32, 4000) == NULL);
	CHECK(srctree_check(1, 16384) == NULL);      /* 64 bytes each: just fits */
	CHECK(srctree_check(1, 16385) != NULL);
	CHECK(srctree_check(0, 10) != NULL);
	CHECK(srctree_check(SRCTREE_SIZE_MB_MAX + 1, 10) != NULL);
	CHECK(srctree_check(32, 0) != NULL);
	CHECK(srctree_check(32, SRCTREE_FILES_MAX + 1) != NULL);
	struct srctree_plan p;
	CHECK(srctree_plan_make(&p, 1, 100, 0) == -1);
}

int main(void)
{
	test_sizes();
	test_determinism();
	test_fill();
	test_paths();
	test_check();
	if (check_failures)
		fprintf(stderr, "%d failure(s)\n", check_failures);
	return check_failures ? 1 : 0;
}
