/* The parent's arithmetic on a case's raw samples. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "hist.h"
#include "samples.h"
#include "stats.h"

#define RESULTS_HIST_MAX_EXP 43   /* ns histogram covers [0, 2^44) ns = 4.9 hours */

struct case_stats {
	struct summary ns;           /* every statistic in nanoseconds */
	uint64_t min_cycles, p50_cycles;
	uint64_t subtracted_cycles;  /* probe overhead removed from each sample */
	struct hist hist_ns;         /* for hist/CASE.csv */
	struct hist hist_cycles;
};

/*
 * Build histograms and statistics from raw values. Cycle samples have
 * subtract_cycles removed (saturating at 0) before anything else. Returns 0,
 * or -1 with why when memory fails or the histogram count does not match n.
 */
int results_compute(const struct samples *s, uint64_t tsc_khz, uint64_t subtract_cycles,
		    struct case_stats *out, char *why, size_t why_len);
/* The same from a streamed case's histogram (results_stream.c); results_compute calls it. */
int results_compute_stream(const struct samples *s, uint64_t tsc_khz, uint64_t subtract_cycles,
			   struct case_stats *out, char *why, size_t why_len);
void results_free(struct case_stats *st);
