#include "repeat.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int rep_init(struct rep_acc *a, unsigned want)
{
	memset(a, 0, sizeof(*a));
	a->want = want;
	a->reps = calloc(want ? want : 1, sizeof(*a->reps));
	if (!a->reps)
		return -1;
	if (hist_init(&a->merged.hist_ns, RESULTS_HIST_MAX_EXP) ||
	    hist_init(&a->merged.hist_cycles, RESULTS_HIST_MAX_EXP + 4)) {
		rep_free(a);
		return -1;
	}
	welford_init(&a->w);
	return 0;
}

/* Pool (n, mean, m2) of two sets (Chan et al.). */
static void pool(struct welford *into, uint64_t n, double mean, double m2)
{
	if (n == 0)
		return;
	uint64_t total = into->n + n;
	double delta = mean - into->mean;
	into->m2 += m2 + delta * delta * (double)into->n * (double)n / (double)total;
	into->mean += delta * (double)n / (double)total;
	into->n = total;
}

int rep_add(struct rep_acc *a, const struct case_stats *st, const struct case_result *r)
{
	if (a->done >= a->want)
		return -1;
	hist_merge(&a->merged.hist_ns, &st->hist_ns);
	hist_merge(&a->merged.hist_cycles, &st->hist_cycles);
	uint64_t n = st->ns.n;
	pool(&a->w, n, st->ns.mean, n > 1 ? st->ns.stddev * st->ns.stddev * (double)(n - 1) : 0.0);
	a->merged.subtracted_cycles = st->subtracted_cycles;
	a->reps[a->done++] = (struct rep_stat){ .samples = n, .p50 = st->ns.p50, .p90 = st->ns.p90, .p99 = st->ns.p99,
						.min = st->ns.min, .max = st->ns.max, .mean = st->ns.mean };
	if (r && r->sh) {
		a->samples += r->sh->s.count;
		a->warmup += r->sh->s.warmup_discarded;
		a->missed += r->sh->s.missed;
	}
	if (r)
		a->elapsed_s += r->elapsed_s;
	a->have = true;
	return 0;
}

void rep_finish(struct rep_acc *a)
{
	summary_from_hist(&a->merged.ns, &a->merged.hist_ns, &a->w);
	a->merged.min_cycles = a->merged.hist_cycles.total ? a->merged.hist_cycles.min : 0;
	a->merged.p50_cycles = hist_percentile(&a->merged.hist_cycles, 50.0, NULL);
}

void rep_free(struct rep_acc *a)
{
	results_free(&a->merged);
	free(a->reps);
	a->reps = NULL;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

/* P(Binomial(n, 1/2) < k) */
static double binom_below(unsigned n, unsigned k)
{
	double p = 0, c = 1;   /* c = C(n, i) */
	for (unsigned i = 0; i < k && i <= n; i++) {
		p += c;
		c = c * (double)(n - i) / (double)(i + 1);
	}
	return p / pow(2.0, (double)n);
}

void rep_median_interval(uint64_t *v, unsigned n, double level, uint64_t *median, uint64_t *lo, uint64_t *hi,
			 double *coverage)
{
	*median = *lo = *hi = 0;
	*coverage = 0;
	if (n == 0)
		return;
	qsort(v, n, sizeof(*v), cmp_u64);
	*median = n % 2 ? v[n / 2] : v[n / 2 - 1] + (v[n / 2] - v[n / 2 - 1]) / 2;
	unsigned k = 1;   /* 1-based order statistic */
	while (k + 1 <= n / 2 && binom_below(n, k + 1) <= (1.0 - level) / 2.0)
		k++;
	*lo = v[k - 1];
	*hi = v[n - k];
	*coverage = 1.0 - 2.0 * binom_below(n, k);
}
