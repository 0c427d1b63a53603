/* Summaries of recorded samples. */
#include "stats.h"

#include <math.h>
#include <string.h>

#include "hist.h"

double welford_stddev(const struct welford *w)
{
	if (w->n < 2)
		return 0.0;
	return sqrt(w->m2 / (double)(w->n - 1));
}

void summary_from_hist(struct summary *s, const struct hist *h, const struct welford *w)
{
	memset(s, 0, sizeof(*s));
	s->n = h->total;
	s->overflow = h->overflow;
	if (h->total == 0)
		return;
	s->min = h->min;
	s->max = h->max;
	s->p50 = hist_percentile(h, 50.0, NULL);
	s->p90 = hist_percentile(h, 90.0, NULL);
	s->p99 = hist_percentile(h, 99.0, NULL);
	s->p999 = hist_percentile(h, 99.9, &s->p999_in_overflow);
	s->mean = w->mean;
	s->stddev = welford_stddev(w);
}
