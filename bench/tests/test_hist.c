/* Histogram: bucket layout, error bound, percentiles on known data, overflow. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hist.h"
#include "stats.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The exact percentile the histogram approximates: the sample of rank ceil(p*n). */
static uint64_t exact_percentile(const uint64_t *sorted, size_t n, double p)
{
	size_t rank = (size_t)((p / 100.0) * (double)n);
	if ((double)rank < p / 100.0 * (double)n)
		rank++;
	if (rank == 0)
		rank = 1;
	return sorted[rank - 1];
}

static void test_index_roundtrip(void)
{
	/* every value lands in a bucket whose range holds it, width <= value / 2^SUB_BITS */
	uint64_t probes[] = { 0, 1, 127, 128, 129, 255, 256, 1000, 4095, 4096, 123456789, (1ull << 40) + 12345 };
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		uint64_t v = probes[i], lo, hi;
		hist_bucket_range(hist_index(v), &lo, &hi);
		CHECK(lo <= v && v <= hi);
		if (v >= HIST_SUB_COUNT)
			CHECK((double)(hi - lo + 1) <= (double)v / HIST_SUB_COUNT + 1e-9);
		else
			CHECK(lo == v && hi == v);
	}
	/* adjacent buckets tile the line with no gap */
	for (uint32_t i = 0; i + 1 < 3000; i++) {
		uint64_t lo0, hi0, lo1, hi1;
		hist_bucket_range(i, &lo0, &hi0);
		hist_bucket_range(i + 1, &lo1, &hi1);
		CHECK(hi0 + 1 == lo1);
	}
}

static void test_small_values_exact(void)
{
	struct hist h;
	CHECK(hist_init(&h, 20) == 0);
	/* 1..100 once each: exact answers for values below 2^SUB_BITS */
	for (uint64_t v = 1; v <= 100; v++)
		hist_record(&h, v);
	CHECK_EQ_U64(hist_percentile(&h, 50, NULL), 50);
	CHECK_EQ_U64(hist_percentile(&h, 90, NULL), 90);
	CHECK_EQ_U64(hist_percentile(&h, 99, NULL), 99);
	CHECK_EQ_U64(hist_percentile(&h, 99.9, NULL), 100);
	CHECK_EQ_U64(hist_percentile(&h, 100, NULL), 100);
	CHECK_EQ_U64(h.min, 1);
	CHECK_EQ_U64(h.max, 100);
	CHECK(hist_consistent(&h, 100));
	CHECK(!hist_consistent(&h, 101));
	hist_free(&h);
}

static void test_random_error_bound(void)
{
	struct hist h;
	CHECK(hist_init(&h, 40) == 0);
	size_t n = 200000;
	uint64_t *v = malloc(n * sizeof(*v));
	CHECK(v != NULL);
	if (!v)
		return;
	srand(12345);
	for (size_t i = 0; i < n; i++) {
		/* log-uniform over 1 ns .. 10 s: the shape latencies have */
		double e = (double)rand() / RAND_MAX * 33.0;
		v[i] = (uint64_t)__builtin_exp2(e) + 1;
		hist_record(&h, v[i]);
	}
	qsort(v, n, sizeof(*v), cmp_u64);
	const double ps[] = { 1, 10, 50, 90, 99, 99.9, 99.99, 100 };
	for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		uint64_t exact = exact_percentile(v, n, ps[i]);
		uint64_t got = hist_percentile(&h, ps[i], NULL);
		/* reported value is the bucket's top: >= exact, within the relative bound */
		CHECK(got >= exact);
		CHECK((double)(got - exact) <= (double)exact / HIST_SUB_COUNT + 1.0);
	}
	CHECK_EQ_U64(h.min, v[0]);
	CHECK_EQ_U64(h.max, v[n - 1]);
	CHECK(hist_consistent(&h, n));
	free(v);
	hist_free(&h);
}

/* p * n / 100 whole: the rank is exactly that, not one more (floating point). */
static void test_whole_rank(void)
{
	struct hist h;
	CHECK(hist_init(&h, 20) == 0);
	for (int i = 0; i < 999; i++)
		hist_record(&h, 10);
	hist_record(&h, 100);
	CHECK_EQ_U64(hist_percentile(&h, 99.9, NULL), 10);   /* rank 999 of 1000 */
	hist_reset(&h);
	for (int i = 0; i < 9990; i++)
		hist_record(&h, 10);
	for (int i = 0; i < 10; i++)
		hist_record(&h, 100);
	CHECK_EQ_U64(hist_percentile(&h, 99.9, NULL), 10);   /* rank 9990 of 10000 */
	hist_free(&h);
}

static void test_overflow(void)
{
	struct hist h;
	CHECK(hist_init(&h, HIST_SUB_BITS + 2) == 0); /* covers [0, 1024) */
	for (int i = 0; i < 90; i++)
		hist_record(&h, 10);
	for (int i = 0; i < 10; i++)
		hist_record(&h, 5000 + (uint64_t)i);   /* past the range */
	CHECK_EQ_U64(h.overflow, 10);
	CHECK_EQ_U64(h.total, 100);
	CHECK_EQ_U64(h.max, 5009);              /* exact even though it overflowed */
	CHECK(hist_consistent(&h, 100));
	bool of = false;
	CHECK_EQ_U64(hist_percentile(&h, 50, &of), 10);
	CHECK(!of);
	CHECK_EQ_U64(hist_percentile(&h, 99, &of), 5009);
	CHECK(of);
	hist_free(&h);
}

static void test_welford_and_summary(void)
{
	struct welford w;
	welford_init(&w);
	const double xs[] = { 2, 4, 4, 4, 5, 5, 7, 9 };
	for (size_t i = 0; i < 8; i++)
		welford_add(&w, xs[i]);
	CHECK_NEAR(w.mean, 5.0, 1e-12);
	CHECK_NEAR(welford_stddev(&w), 2.138089935299395, 1e-12); /* sample stddev, n - 1 */

	/* Welford stays accurate on a large offset where the naive formula fails */
	welford_init(&w);
	for (int i = 0; i < 1000; i++)
		welford_add(&w, 1e9 + (i % 2));
	CHECK_NEAR(welford_stddev(&w), 0.50025012506, 1e-6);

	struct hist h;
	CHECK(hist_init(&h, 20) == 0);
	welford_init(&w);
	for (uint64_t v = 1; v <= 10; v++) {
		hist_record(&h, v);
		welford_add(&w, (double)v);
	}
	struct summary s;
	summary_from_hist(&s, &h, &w);
	CHECK_EQ_U64(s.n, 10);
	CHECK_EQ_U64(s.min, 1);
	CHECK_EQ_U64(s.p50, 5);
	CHECK_EQ_U64(s.p90, 9);
	CHECK_EQ_U64(s.max, 10);
	CHECK_NEAR(s.mean, 5.5, 1e-12);
	hist_free(&h);

	/* an empty histogram reports zeros, not garbage */
	CHECK(hist_init(&h, 20) == 0);
	welford_init(&w);
	summary_from_hist(&s, &h, &w);
	CHECK_EQ_U64(s.n, 0);
	CHECK_EQ_U64(hist_percentile(&h, 50, NULL), 0);
	hist_free(&h);
}

int main(void)
{
	test_index_roundtrip();
	test_small_values_exact();
	test_random_error_bound();
	test_overflow();
	test_whole_rank();
	test_welford_and_summary();
	CHECK(hist_init(&(struct hist){ 0 }, 3) != 0); /* below SUB_BITS: refused */
	CHECK_DONE();
}
