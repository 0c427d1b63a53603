/*
 * Regression detection on synthetic data: a 5% shift of p99 alone is found,
 * a uniform speed-up is "faster", small runs are "unknown", and 100 reruns of
 * identical distributions raise at most one false alarm.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "compare.h"
#include "compare_reps.h"
#include "hist.h"

/*
 * How many samples a run needs before a 5% move of p99 alone stands out from
 * the p99's own sampling noise depends on the tail's density: in this heavy
 * tail the share-above test reaches z ~ 3 at 2*10^5 samples and z ~ 7 at
 * 10^6, the size of the default suite's fast cases. The test prints the
 * verdict at each size and requires detection at 10^6.
 */
#define N_SAMPLES 1000000

static uint64_t rng_state;

static double uniform01(void)
{
	/* xorshift64*: fast, seedable, good enough for test data */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	uint64_t r = rng_state * 2685821657736338717ull;
	return ((double)(r >> 11) + 0.5) / 9007199254740992.0;
}

/* A latency-like distribution: a floor, an exponential body, a 5% heavy tail. */
static double latency_ns(void)
{
	double v = 1000.0 - 500.0 * log(uniform01());
	if (uniform01() < 0.05)
		v -= 5000.0 * log(uniform01());
	return v;
}

struct hdist {
	struct hist h;
	uint64_t lo[8192], hi[8192], count[8192];
	struct dist d;
};

static int collect(void *arg, uint64_t lo, uint64_t hi, uint64_t count, uint64_t cum)
{
	(void)cum;
	struct hdist *x = arg;
	x->lo[x->d.n] = lo;
	x->hi[x->d.n] = hi;
	x->count[x->d.n] = count;
	x->d.n++;
	return 0;
}

/* Samples from seed; values above tail_from are scaled by tail_scale, all by scale. */
static void make(struct hdist *x, uint64_t seed, uint64_t n, double scale, double tail_from, double tail_scale)
{
	/* splitmix64 of the seed: neighbouring seeds give unrelated streams */
	uint64_t z = seed * 0x9e3779b97f4a7c15ull + 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	rng_state = (z ^ (z >> 31)) | 1;
	hist_reset(&x->h);
	for (uint64_t i = 0; i < n; i++) {
		double v = latency_ns();
		if (v > tail_from)
			v *= tail_scale;
		hist_record(&x->h, (uint64_t)(v * scale));
	}
	memset(&x->d, 0, sizeof(x->d));
	x->d.lo = x->lo;
	x->d.hi = x->hi;
	x->d.count = x->count;
	x->d.total = x->h.total;
	hist_foreach(&x->h, collect, x);
}

static void set_series(struct rep_series *s, const double *p50, unsigned n, double scale)
{
	s->n = n;
	for (unsigned i = 0; i < n; i++)
		for (int q = 0; q < COMPARE_NQ; q++)
			s->q[q][i] = (uint64_t)llround(p50[i] * scale * (q == 0 ? 1.0 : q == 1 ? 1.5 : 3.0));
}

/* Verdicts over repetitions: the rank test, the effect threshold, noisy. */
static void test_reps(void)
{
	/* exact Mann-Whitney: 3 below 3 is the most extreme of C(6,3) = 20 splits, two-sided */
	const uint64_t lo[] = { 1, 2, 3 }, hi[] = { 4, 5, 6 };
	CHECK_NEAR(mann_whitney_p(lo, 3, hi, 3), 0.1, 1e-12);
	CHECK_NEAR(mann_whitney_p(lo, 3, lo, 3), 1.0, 1e-12);
	const uint64_t five[] = { 10, 11, 12, 13, 14 }, five_hi[] = { 20, 21, 22, 23, 24 };
	CHECK_NEAR(mann_whitney_p(five_hi, 5, five, 5), 2.0 / 252.0, 1e-12);

	static struct rep_series a, b;
	struct compare_opts o = COMPARE_DEFAULTS;   /* 25%, p50 and p90 */
	struct compare_result r;
	const double quiet[] = { 1000, 1010, 990, 1005, 995 }, quiet2[] = { 1003, 998, 1012, 992, 1001 };
	set_series(&a, quiet, 5, 1.0);
	set_series(&b, quiet2, 5, 1.0);
	compare_reps(&a, &b, &o, 0.05, &r);
	CHECK(r.verdict == VERDICT_SAME);
	set_series(&b, quiet2, 5, 1.3);   /* 30% slower: found */
	compare_reps(&a, &b, &o, 0.05, &r);
	CHECK(r.verdict == VERDICT_SLOWER);
	CHECK(r.shift[0] > 0.25);
	set_series(&b, quiet2, 5, 1.1);   /* 10%: significant, but below the effect that matters */
	compare_reps(&a, &b, &o, 0.05, &r);
	CHECK(r.verdict == VERDICT_SAME);
	set_series(&b, quiet2, 5, 0.7);
	compare_reps(&a, &b, &o, 0.05, &r);
	CHECK(r.verdict == VERDICT_FASTER);
	/* repetitions that spread wider than the effect: noisy, not a verdict */
	const double wild[] = { 1000, 1500, 800, 1300, 950 };
	set_series(&b, wild, 5, 1.0);
	compare_reps(&a, &b, &o, 0.05, &r);
	CHECK(r.verdict == VERDICT_NOISY);
	CHECK(strstr(r.why, "spread") != NULL);
}

int main(void)
{
	static struct hdist a, b;
	if (hist_init(&a.h, 40) || hist_init(&b.h, 40))
		return 1;
	struct compare_opts o = COMPARE_DEFAULTS;
	o.min_effect = 0.03;   /* stricter than the default: the test is about resolution */
	o.quantile_mask = 0x7; /* p99 too */
	struct compare_result r;

	/* the distribution's p98, from a large sample: the tail we will stretch */
	make(&a, 999, 1000000, 1.0, INFINITY, 1.0);
	double p98 = (double)dist_quantile(&a.d, 98.0);

	/* 1. p99 moves 5%, p50 and p90 do not */
	const uint64_t sizes[] = { N_SAMPLES / 50, N_SAMPLES / 5, N_SAMPLES };
	for (int i = 0; i < 3; i++) {
		make(&a, 1, sizes[i], 1.0, INFINITY, 1.0);
		make(&b, 2, sizes[i], 1.0, p98, 1.05);
		compare_dists(&a.d, &b.d, &o, &r);
		printf("[q99 %llu -> %llu] ", (unsigned long long)r.base_q[2], (unsigned long long)r.new_q[2]);
		printf("p99 +5%%, %7llu samples: %-7s shifts p50 %+.3f p90 %+.3f p99 %+.3f, p %.2g %.2g %.2g\n",
		       (unsigned long long)sizes[i], verdict_name(r.verdict), r.shift[0], r.shift[1], r.shift[2],
		       r.p_value[0], r.p_value[1], r.p_value[2]);
	}
	CHECK(r.verdict == VERDICT_SLOWER);
	CHECK(fabs(r.shift[0]) < 0.03);
	CHECK(r.shift[2] > 0.03);   /* 5% within sampling noise and bucket width */

	/* 2. everything 10% faster */
	make(&b, 3, N_SAMPLES, 0.9, INFINITY, 1.0);
	compare_dists(&a.d, &b.d, &o, &r);
	CHECK(r.verdict == VERDICT_FASTER);
	CHECK(r.ks_d > 0.05);

	/* 3. too few samples to say */
	make(&b, 4, 100, 1.0, INFINITY, 1.0);
	compare_dists(&a.d, &b.d, &o, &r);
	CHECK(r.verdict == VERDICT_UNKNOWN);
	CHECK(strstr(r.why, "need 1000 samples") != NULL);

	/* 4. identical distributions, 100 reruns: at most 1 false alarm */
	int alarms = 0;
	for (uint64_t i = 0; i < 100; i++) {
		make(&a, 100 + i, N_SAMPLES / 4, 1.0, INFINITY, 1.0);
		make(&b, 1000 + i, N_SAMPLES / 4, 1.0, INFINITY, 1.0);
		compare_dists(&a.d, &b.d, &o, &r);
		alarms += r.verdict != VERDICT_SAME;
	}
	printf("identical distributions: %d false alarms in 100 reruns\n", alarms);
	CHECK(alarms <= 1);

	test_reps();

	/* pure helpers */
	CHECK_NEAR(normal_two_sided_p(0.0), 1.0, 1e-12);
	CHECK_NEAR(normal_two_sided_p(1.959963985), 0.05, 1e-6);
	hist_free(&a.h);
	hist_free(&b.h);
	CHECK_DONE();
}
