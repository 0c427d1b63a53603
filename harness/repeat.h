/*
 * Repetitions (case key `repeat = N`): a case runs N times, each a separate
 * child process, interleaved round-robin with the suite's other cases
 * (cmd_run.c shuffles each round's order with a recorded seed), so that a
 * drift of the machine hits every case alike. Its row's statistics are over
 * all repetitions' samples together; the spread between repetitions is kept
 * per repetition and summarized as the median of their p50s with a
 * distribution-free interval (order statistics of the binomial).
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "results.h"
#include "runner.h"

/* What one repetition measured (ns). */
struct rep_stat {
	uint64_t samples, p50, p90, p99, min, max;
	double mean;
};

struct rep_acc {
	unsigned want, done;
	bool have;                   /* merged holds at least one repetition */
	struct case_stats merged;    /* histograms added up; merged.ns filled by rep_finish */
	struct welford w;            /* pooled over repetitions, ns */
	uint64_t samples, warmup, missed;
	double elapsed_s;
	struct rep_stat *reps;       /* want entries */
};

int rep_init(struct rep_acc *a, unsigned want);
/* Add an ok repetition's statistics. 0, or -1 (memory). */
int rep_add(struct rep_acc *a, const struct case_stats *st, const struct case_result *r);
/* The statistics over every repetition so far, into a->merged (ns summary, min/p50 cycles). */
void rep_finish(struct rep_acc *a);
void rep_free(struct rep_acc *a);

/*
 * The median of v[0..n) and a distribution-free interval for the median of
 * the population: the k-th smallest and k-th largest values, k the largest
 * with P(Binomial(n, 1/2) < k) <= (1 - level) / 2. For n = 5 that is
 * [min, max] with coverage 93.75%; *coverage says what it is. Sorts v.
 */
void rep_median_interval(uint64_t *v, unsigned n, double level, uint64_t *median, uint64_t *lo, uint64_t *hi,
			 double *coverage);
