/*
 * Comparing two runs of a case on the spread between repetitions (repeat = N),
 * the way to a verdict that holds on a noisy machine: one run is one sample of
 * the machine's state, so a test over the samples inside a run cannot see
 * between-run variation; a test over the repetitions' statistics can.
 *
 * For each tested quantile (p50, p90 and, on request, p99), the repetitions'
 * values of the two runs go through a Mann-Whitney rank test (exact: every
 * split of the pooled values, or 20000 random ones beyond that; ties count
 * half). A quantile moved when the test is significant (Bonferroni over the
 * quantiles) AND the median of the new repetitions is at least min_effect off
 * the base's. When no quantile moved but a side's repetitions spread wider
 * (max - min over their median) than min_effect, the verdict is NOISY: the
 * machine cannot tell at that effect size.
 */
#pragma once
#include "compare.h"

#define COMPARE_REPS_MAX 1000

struct rep_series {
	unsigned n;                             /* repetitions */
	uint64_t q[COMPARE_NQ][COMPARE_REPS_MAX];   /* each repetition's p50, p90, p99 */
};

/* Two-sided p-value of the Mann-Whitney U test of a against b. */
double mann_whitney_p(const uint64_t *a, unsigned na, const uint64_t *b, unsigned nb);

/* Fill r (verdict, shift and p_value per quantile, base_q/new_q = medians of the repetitions). */
void compare_reps(const struct rep_series *base, const struct rep_series *next, const struct compare_opts *o,
		  double rep_alpha, struct compare_result *r);
