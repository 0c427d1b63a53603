#include "compare.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const double compare_quantiles[COMPARE_NQ] = { 50.0, 90.0, 99.0 };

const char *verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_SAME: return "same";
	case VERDICT_FASTER: return "faster";
	case VERDICT_SLOWER: return "slower";
	case VERDICT_BROKEN: return "broken";
	case VERDICT_NOISY: return "noisy";
	case VERDICT_UNKNOWN: break;
	}
	return "unknown";
}

uint64_t dist_quantile(const struct dist *d, double p)
{
	if (d->total == 0)
		return 0;
	uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)d->total - 1e-9);   /* as hist_percentile */
	if (rank == 0)
		rank = 1;
	uint64_t seen = 0;
	for (size_t i = 0; i < d->n; i++) {
		seen += d->count[i];
		if (seen >= rank)
			return d->hi[i];
	}
	return d->n ? d->hi[d->n - 1] : 0;
}

uint64_t dist_count_above(const struct dist *d, uint64_t x)
{
	uint64_t above = 0;
	for (size_t i = 0; i < d->n; i++)
		if (d->lo[i] > x)
			above += d->count[i];
	return above;
}

double normal_two_sided_p(double z)
{
	return erfc(fabs(z) / sqrt(2.0));
}

/* Largest CDF difference, evaluated at every bucket edge of either run. */
static double ks_distance(const struct dist *a, const struct dist *b)
{
	size_t i = 0, j = 0;
	uint64_t ca = 0, cb = 0;
	double d = 0;
	while (i < a->n || j < b->n) {
		uint64_t x = UINT64_MAX;
		if (i < a->n && a->hi[i] < x)
			x = a->hi[i];
		if (j < b->n && b->hi[j] < x)
			x = b->hi[j];
		while (i < a->n && a->hi[i] <= x)
			ca += a->count[i++];
		while (j < b->n && b->hi[j] <= x)
			cb += b->count[j++];
		double diff = fabs((double)ca / (double)a->total - (double)cb / (double)b->total);
		if (diff > d)
			d = diff;
	}
	return d;
}

void compare_dists(const struct dist *base, const struct dist *next, const struct compare_opts *o,
		   struct compare_result *r)
{
	memset(r, 0, sizeof(*r));
	if (base->total < o->min_samples || next->total < o->min_samples) {
		r->verdict = VERDICT_UNKNOWN;
		snprintf(r->why, sizeof(r->why), "need %llu samples in each run, have %llu and %llu",
			 (unsigned long long)o->min_samples, (unsigned long long)base->total,
			 (unsigned long long)next->total);
		return;
	}
	r->ks_d = ks_distance(base, next);
	unsigned mask = o->quantile_mask ? o->quantile_mask : (1u << COMPARE_NQ) - 1;
	double alpha_each = o->alpha / __builtin_popcount(mask);
	int up = 0, down = 0;
	for (int k = 0; k < COMPARE_NQ; k++) {
		uint64_t x = dist_quantile(base, compare_quantiles[k]);
		r->base_q[k] = x;
		r->new_q[k] = dist_quantile(next, compare_quantiles[k]);
		r->shift[k] = x ? ((double)r->new_q[k] - (double)x) / (double)x : 0.0;
		double pa = (double)dist_count_above(base, x) / (double)base->total;
		double pb = (double)dist_count_above(next, x) / (double)next->total;
		double pooled = (pa * (double)base->total + pb * (double)next->total) /
				((double)base->total + (double)next->total);
		double se = sqrt(pooled * (1.0 - pooled) * (1.0 / (double)base->total + 1.0 / (double)next->total));
		r->p_value[k] = se > 0 ? normal_two_sided_p((pb - pa) / se) : (pa == pb ? 1.0 : 0.0);
		if ((mask & (1u << k)) && r->p_value[k] < alpha_each && fabs(r->shift[k]) >= o->min_effect) {
			if (r->shift[k] > 0)
				up++;
			else
				down++;
		}
	}
	/* For a regression gate, any quantile that got slower makes the case slower. */
	r->verdict = up ? VERDICT_SLOWER : down ? VERDICT_FASTER : VERDICT_SAME;
	if (up && down)
		snprintf(r->why, sizeof(r->why), "some quantiles slower, others faster");
}
