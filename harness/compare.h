/*
 * Regression detection between two runs of a case, from their histograms.
 *
 * A bare percentage of a mean is not a test. For each of p50, p90 and p99 of
 * the base run, the share of the new run's samples above that value is
 * compared with the base's share (a two-proportion z-test: does the new
 * distribution put more or less mass above the base's quantile than chance
 * allows?). A quantile counts as moved only when that test is significant
 * (Bonferroni over the three quantiles) AND the quantile itself moved by at
 * least min_effect (relative): significance alone would flag every tiny
 * shift once runs have 10^5 samples, effect alone would flag noise on small
 * runs. The Kolmogorov-Smirnov distance is reported beside it.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dist {
	const uint64_t *lo, *hi;   /* bucket bounds, ascending, shared layout across runs */
	const uint64_t *count;
	size_t n;                  /* buckets */
	uint64_t total;
};

/* BROKEN: ok in the base run, not ok (failed, timed out, killed) in the new one. */
/* NOISY: the repetitions spread wider than the effect that matters; no verdict at that size (compare_reps.h). */
enum verdict { VERDICT_SAME, VERDICT_FASTER, VERDICT_SLOWER, VERDICT_UNKNOWN, VERDICT_BROKEN, VERDICT_NOISY };
const char *verdict_name(enum verdict v);

struct compare_opts {
	double alpha;              /* family-wise significance level */
	double min_effect;         /* relative quantile shift that matters */
	uint64_t min_samples;      /* below this in either run: unknown */
	unsigned quantile_mask;    /* bit k: test compare_quantiles[k]; 0 = all */
};
/*
 * Defaults for a 2-CPU VM: two runs of one build there move medians by up to
 * ~20% (system state, not sampling) and p99 by several times, so p50 and p90
 * are tested, at 25%. On quiet dedicated hardware pass a smaller --effect and
 * --quantiles 50,90,99; the unit test shows 3% at p99 is resolved with enough
 * samples.
 */
#define COMPARE_DEFAULTS { .alpha = 0.001, .min_effect = 0.25, .min_samples = 1000, .quantile_mask = 0x3 }

#define COMPARE_NQ 3
extern const double compare_quantiles[COMPARE_NQ];   /* 50, 90, 99 */

struct compare_result {
	enum verdict verdict;
	double shift[COMPARE_NQ];    /* (new - base) / base of each quantile */
	double p_value[COMPARE_NQ];  /* two-sided, of the share-above test */
	uint64_t base_q[COMPARE_NQ], new_q[COMPARE_NQ];
	double ks_d;                 /* max |F_base - F_new| over bucket edges */
	char why[160];
};

/* Highest value of the bucket holding the sample of rank ceil(p/100 * total). */
uint64_t dist_quantile(const struct dist *d, double p);
/* Samples strictly above x (x a bucket's hi or between buckets). */
uint64_t dist_count_above(const struct dist *d, uint64_t x);
/* Two-sided p-value of a standard normal z. */
double normal_two_sided_p(double z);

void compare_dists(const struct dist *base, const struct dist *next, const struct compare_opts *o,
		   struct compare_result *r);
