/* Log-linear histogram: see hist.h for the bucket layout and error bound. */
#include "hist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int hist_init(struct hist *h, unsigned max_exp)
{
	memset(h, 0, sizeof(*h));
	if (max_exp < HIST_SUB_BITS || max_exp > 63)
		return -1;
	h->max_exp = max_exp;
	h->nbuckets = loghist_buckets(max_exp);
	h->counts = calloc(h->nbuckets, sizeof(*h->counts));
	if (!h->counts)
		return -1;
	h->min = UINT64_MAX;
	return 0;
}

void hist_free(struct hist *h)
{
	free(h->counts);
	h->counts = NULL;
	h->nbuckets = 0;
}

void hist_reset(struct hist *h)
{
	memset(h->counts, 0, sizeof(*h->counts) * h->nbuckets);
	h->total = h->overflow = h->max = 0;
	h->min = UINT64_MAX;
}

void hist_bucket_range(uint32_t i, uint64_t *lo, uint64_t *hi)
{
	loghist_range(i, lo, hi);
}

uint64_t hist_percentile(const struct hist *h, double p, bool *in_overflow)
{
	if (in_overflow)
		*in_overflow = false;
	if (h->total == 0)
		return 0;
	if (p <= 0.0)
		return h->min;
	if (p > 100.0)
		p = 100.0;
	/* p * total / 100 is often a whole number that floating point lands just above */
	uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)h->total - 1e-9);
	if (rank == 0)
		rank = 1;
	uint64_t seen = 0;
	for (uint32_t i = 0; i < h->nbuckets; i++) {
		seen += h->counts[i];
		if (seen >= rank) {
			uint64_t lo, hi;
			hist_bucket_range(i, &lo, &hi);
			if (hi > h->max)
				hi = h->max;
			if (hi < h->min)
				hi = h->min;
			return hi;
		}
	}
	if (in_overflow)
		*in_overflow = true;
	return h->max;
}

bool hist_consistent(const struct hist *h, uint64_t expected_n)
{
	uint64_t sum = h->overflow;
	for (uint32_t i = 0; i < h->nbuckets; i++)
		sum += h->counts[i];
	return sum == h->total && h->total == expected_n;
}

int hist_foreach(const struct hist *h, hist_visit_fn fn, void *arg)
{
	uint64_t cum = 0;
	for (uint32_t i = 0; i < h->nbuckets; i++) {
		if (!h->counts[i])
			continue;
		uint64_t lo, hi;
		hist_bucket_range(i, &lo, &hi);
		cum += h->counts[i];
		int rc = fn(arg, lo, hi, h->counts[i], cum);
		if (rc)
			return rc;
	}
	if (h->overflow) {
		uint64_t lo = (uint64_t)1 << (h->max_exp + 1);
		cum += h->overflow;
		return fn(arg, lo, h->max, h->overflow, cum);
	}
	return 0;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	uint32_t n = dst->nbuckets < src->nbuckets ? dst->nbuckets : src->nbuckets;
	for (uint32_t i = 0; i < n; i++)
		dst->counts[i] += src->counts[i];
	for (uint32_t i = n; i < src->nbuckets; i++)   /* beyond dst's range */
		dst->overflow += src->counts[i];
	dst->overflow += src->overflow;
	dst->total += src->total;
	if (src->total) {
		if (src->min < dst->min)
			dst->min = src->min;
		if (src->max > dst->max)
			dst->max = src->max;
	}
}
