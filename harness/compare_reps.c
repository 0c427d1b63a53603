#include "compare_reps.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXACT_MAX_SPLITS 20000

/* U of a against b: pairs where a > b, ties half. */
static double u_stat(const uint64_t *pool, const unsigned char *in_a, unsigned n)
{
	double u = 0;
	for (unsigned i = 0; i < n; i++) {
		if (!in_a[i])
			continue;
		for (unsigned j = 0; j < n; j++) {
			if (in_a[j])
				continue;
			u += pool[i] > pool[j] ? 1.0 : pool[i] == pool[j] ? 0.5 : 0.0;
		}
	}
	return u;
}

static double choose(unsigned n, unsigned k)
{
	double c = 1;
	for (unsigned i = 1; i <= k; i++)
		c = c * (double)(n - k + i) / (double)i;
	return c;
}

/* Next k-combination of {0..n-1} in lexicographic order; false after the last. */
static int next_combination(unsigned *idx, unsigned k, unsigned n)
{
	int i = (int)k - 1;
	while (i >= 0 && idx[i] == n - k + (unsigned)i)
		i--;
	if (i < 0)
		return 0;
	idx[i]++;
	for (unsigned j = (unsigned)i + 1; j < k; j++)
		idx[j] = idx[j - 1] + 1;
	return 1;
}

double mann_whitney_p(const uint64_t *a, unsigned na, const uint64_t *b, unsigned nb)
{
	unsigned n = na + nb;
	if (na == 0 || nb == 0)
		return 1.0;
	uint64_t *pool = malloc(n * sizeof(*pool));
	unsigned char *in_a = calloc(n, 1);
	unsigned *idx = malloc(na * sizeof(*idx));
	if (!pool || !in_a || !idx) {
		free(pool);
		free(in_a);
		free(idx);
		return 1.0;
	}
	memcpy(pool, a, na * sizeof(*a));
	memcpy(pool + na, b, nb * sizeof(*b));
	for (unsigned i = 0; i < na; i++)
		in_a[i] = 1;
	double centre = (double)na * (double)nb / 2.0;
	double observed = fabs(u_stat(pool, in_a, n) - centre);
	unsigned long long extreme = 0, total = 0;
	if (choose(n, na) <= EXACT_MAX_SPLITS) {
		for (unsigned i = 0; i < na; i++)
			idx[i] = i;
		do {
			memset(in_a, 0, n);
			for (unsigned i = 0; i < na; i++)
				in_a[idx[i]] = 1;
			if (fabs(u_stat(pool, in_a, n) - centre) >= observed - 1e-9)
				extreme++;
			total++;
		} while (next_combination(idx, na, n));
	} else {
		unsigned long long x = 0x9e3779b97f4a7c15ull;   /* fixed: the same runs give the same p */
		for (total = 0; total < EXACT_MAX_SPLITS; total++) {
			memset(in_a, 0, n);
			for (unsigned placed = 0; placed < na;) {   /* na distinct positions */
				x ^= x >> 12;
				x ^= x << 25;
				x ^= x >> 27;
				unsigned k = (unsigned)((x * 2685821657736338717ull) % n);
				if (!in_a[k]) {
					in_a[k] = 1;
					placed++;
				}
			}
			if (fabs(u_stat(pool, in_a, n) - centre) >= observed - 1e-9)
				extreme++;
		}
		extreme++;   /* the observed split itself */
		total++;
	}
	free(pool);
	free(in_a);
	free(idx);
	return (double)extreme / (double)total;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

static double median_of(const uint64_t *v, unsigned n, double *spread)
{
	uint64_t s[COMPARE_REPS_MAX];
	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_u64);
	double m = n % 2 ? (double)s[n / 2] : ((double)s[n / 2 - 1] + (double)s[n / 2]) / 2.0;
	*spread = m > 0 ? (double)(s[n - 1] - s[0]) / m : 0.0;
	return m;
}

void compare_reps(const struct rep_series *base, const struct rep_series *next, const struct compare_opts *o,
		  double rep_alpha, struct compare_result *r)
{
	memset(r, 0, sizeof(*r));
	unsigned mask = o->quantile_mask ? o->quantile_mask : (1u << COMPARE_NQ) - 1;
	unsigned tested = 0;
	for (int k = 0; k < COMPARE_NQ; k++)
		if (mask & (1u << k))
			tested++;
	double alpha_each = rep_alpha / (double)(tested ? tested : 1);
	bool slower = false, faster = false;
	double widest = 0;
	for (int k = 0; k < COMPARE_NQ; k++) {
		double sb, sn;
		double mb = median_of(base->q[k], base->n, &sb), mn = median_of(next->q[k], next->n, &sn);
		r->base_q[k] = (uint64_t)llround(mb);
		r->new_q[k] = (uint64_t)llround(mn);
		r->shift[k] = mb > 0 ? (mn - mb) / mb : 0.0;
		r->p_value[k] = 1.0;
		if (!(mask & (1u << k)))
			continue;
		r->p_value[k] = mann_whitney_p(next->q[k], next->n, base->q[k], base->n);
		widest = fmax(widest, fmax(sb, sn));
		if (r->p_value[k] < alpha_each && r->shift[k] >= o->min_effect)
			slower = true;
		if (r->p_value[k] < alpha_each && r->shift[k] <= -o->min_effect)
			faster = true;
	}
	r->ks_d = NAN;
	if (slower) {
		r->verdict = VERDICT_SLOWER;
	} else if (faster) {
		r->verdict = VERDICT_FASTER;
	} else if (widest > o->min_effect) {
		r->verdict = VERDICT_NOISY;
		snprintf(r->why, sizeof(r->why), "repetitions spread %.0f%% of their median, more than the %.0f%% effect",
			 100 * widest, 100 * o->min_effect);
	} else {
		r->verdict = VERDICT_SAME;
	}
	if (!r->why[0])
		snprintf(r->why, sizeof(r->why), "%u vs %u repetitions", base->n, next->n);
}
