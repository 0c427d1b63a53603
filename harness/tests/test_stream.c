/*
 * Streamed samples (samples.h) against kept ones: the same values give the
 * same count, min and max, mean and stddev to rounding, and percentiles
 * within the histogram's bound; per-interval summaries add up.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "results.h"

#define N 200000

static uint64_t next_value(uint64_t *x)
{
	/* a skewed spread: mostly near 1000, a tail to 10^6, a few huge */
	*x = *x * 6364136223846793005ull + 1442695040888963407ull;
	uint64_t r = *x >> 33;
	if (r % 1000 == 0)
		return 1000000 + r % 100000;
	if (r % 100000 == 1)
		return (1ull << 50) + r;   /* beyond the streamed histogram: overflow */
	return 900 + r % 300;
}

static void test_same_as_kept(enum sample_unit unit, uint64_t subtract)
{
	uint64_t *v = calloc(N, sizeof(*v));
	struct samples_stream st;
	void *mem = calloc(1, samples_stream_bytes(4));
	CHECK(v && mem);
	if (!v || !mem)
		return;
	samples_stream_init(&st, mem, 4, 1000);
	struct samples kept = { .v = v, .cap = N, .unit = unit };
	struct samples streamed = { .cap = N, .unit = unit, .stream = &st };
	uint64_t x = 42;
	while (!samples_full(&kept)) {
		uint64_t val = next_value(&x);
		samples_add(&kept, val);
		samples_add(&streamed, val);
	}
	samples_stream_finish(&st);
	CHECK(samples_full(&streamed));
	CHECK_EQ_U64(streamed.count, N);

	struct case_stats a, b;
	char why[256];
	CHECK(results_compute(&kept, 2500000, subtract, &a, why, sizeof(why)) == 0);
	CHECK_MSG(results_compute(&streamed, 2500000, subtract, &b, why, sizeof(why)) == 0, "%s", why);
	CHECK_EQ_U64(a.ns.n, b.ns.n);
	CHECK_EQ_U64(a.ns.min, b.ns.min);
	CHECK_EQ_U64(a.ns.max, b.ns.max);
	CHECK_EQ_U64(a.min_cycles, b.min_cycles);
	CHECK_EQ_U64(a.ns.overflow, b.ns.overflow);
	CHECK_MSG(fabs(a.ns.mean - b.ns.mean) <= 1e-6 * a.ns.mean, "mean %f vs %f", a.ns.mean, b.ns.mean);
	CHECK_MSG(fabs(a.ns.stddev - b.ns.stddev) <= 1e-6 * a.ns.stddev, "stddev %f vs %f", a.ns.stddev, b.ns.stddev);
	uint64_t pa[] = { a.ns.p50, a.ns.p90, a.ns.p99, a.ns.p999 }, pb[] = { b.ns.p50, b.ns.p90, b.ns.p99, b.ns.p999 };
	for (int i = 0; i < 4; i++)   /* two bucket bounds (raw, then ns): within 2% */
		CHECK_MSG(fabs((double)pa[i] - (double)pb[i]) <= 0.02 * (double)pa[i] + 1, "percentile %d: %llu vs %llu",
			  i, (unsigned long long)pa[i], (unsigned long long)pb[i]);
	results_free(&a);
	results_free(&b);
	free(v);
	free(mem);
}

/* Intervals: their counts add up to what was recorded; beyond the room they are counted as dropped. */
static void test_intervals(void)
{
	struct samples_stream st;
	void *mem = calloc(1, samples_stream_bytes(3));
	CHECK(mem != NULL);
	if (!mem)
		return;
	samples_stream_init(&st, mem, 3, 1);   /* one TSC cycle per interval: every value closes one */
	struct samples s = { .cap = 10, .unit = SAMPLE_CYCLES, .stream = &st };
	for (int i = 0; i < 10; i++)
		samples_add(&s, 100 + (uint64_t)i);
	samples_stream_finish(&st);
	uint64_t total = 0;
	for (uint64_t i = 0; i < st.iv_n; i++) {
		total += st.iv[i].count;
		CHECK(st.iv[i].min <= st.iv[i].p99 && st.iv[i].p99 <= st.iv[i].max);
	}
	CHECK_EQ_U64(st.iv_n, 3);
	CHECK(st.iv_dropped > 0);
	CHECK(total <= 10);
	free(mem);
}

/* A deadline ends a case whatever its sample count. */
static void test_deadline(void)
{
	struct samples s = { .cap = UINT64_MAX, .deadline_tsc = 1 };
	CHECK(samples_full(&s));
	s.deadline_tsc = UINT64_MAX;
	CHECK(!samples_full(&s));
}

int main(void)
{
	test_same_as_kept(SAMPLE_CYCLES, 0);
	test_same_as_kept(SAMPLE_CYCLES, 30);
	test_same_as_kept(SAMPLE_NS, 0);
	test_intervals();
	test_deadline();
	CHECK_DONE();
}
