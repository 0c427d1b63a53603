/* Running mean and variance (Welford), and summaries of a sample set. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct welford {
	uint64_t n;
	double mean;
	double m2;   /* sum of squared deviations from the running mean */
};

static inline void welford_init(struct welford *w)
{
	w->n = 0;
	w->mean = 0.0;
	w->m2 = 0.0;
}

static inline void welford_add(struct welford *w, double x)
{
	w->n++;
	double delta = x - w->mean;
	w->mean += delta / (double)w->n;
	w->m2 += delta * (x - w->mean);
}

/* Sample standard deviation (n - 1); 0 for fewer than two values. */
double welford_stddev(const struct welford *w);

/* Everything a summary row reports about one case, in one unit. */
struct summary {
	uint64_t n;
	uint64_t overflow;
	uint64_t min, p50, p90, p99, p999, max;
	double mean, stddev;
	bool p999_in_overflow;
};

struct hist;
void summary_from_hist(struct summary *s, const struct hist *h, const struct welford *w);
