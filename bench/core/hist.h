/*
 * Log-linear latency histogram (HdrHistogram-style).
 *
 * Values below 2^HIST_SUB_BITS are counted exactly. Above, each power-of-two
 * octave [2^e, 2^(e+1)) is split into 2^HIST_SUB_BITS equal buckets, so a
 * bucket's width is at most value / 2^HIST_SUB_BITS: the relative error of
 * any reported percentile is bounded by 2^-HIST_SUB_BITS (0.78% for 7 bits).
 * Values >= 2^(max_exp + 1) go to an explicit overflow count; min and max are
 * always exact. Recording is O(1) and never allocates.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loghist.h"

#define HIST_SUB_BITS LOGHIST_SUB_BITS
#define HIST_SUB_COUNT LOGHIST_SUB_COUNT

struct hist {
	uint64_t *counts;      /* nbuckets entries */
	uint32_t nbuckets;
	uint32_t max_exp;      /* highest octave exponent covered */
	uint64_t total;        /* every value recorded, overflow included */
	uint64_t overflow;     /* values above the covered range */
	uint64_t min, max;     /* exact */
};

/* max_exp in [HIST_SUB_BITS, 63]: the range covered is [0, 2^(max_exp+1)). */
int hist_init(struct hist *h, unsigned max_exp);
void hist_free(struct hist *h);
void hist_reset(struct hist *h);

static inline uint32_t hist_index(uint64_t v)
{
	return loghist_index(v);
}

static inline void hist_record(struct hist *h, uint64_t v)
{
	uint32_t i = hist_index(v);
	if (i < h->nbuckets)
		h->counts[i]++;
	else
		h->overflow++;
	h->total++;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

/* n values of v at once (a bucket of another histogram carried over). */
static inline void hist_record_n(struct hist *h, uint64_t v, uint64_t n)
{
	if (!n)
		return;
	uint32_t i = hist_index(v);
	if (i < h->nbuckets)
		h->counts[i] += n;
	else
		h->overflow += n;
	h->total += n;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

/* Add src's counts into dst (the same layout: same max_exp). */
void hist_merge(struct hist *dst, const struct hist *src);

/* Inclusive value range [lo, hi] of bucket i. */
void hist_bucket_range(uint32_t i, uint64_t *lo, uint64_t *hi);

/*
 * The value at percentile p (0 < p <= 100): the highest value equivalent to
 * the bucket holding the sample of rank ceil(p/100 * total), clamped to
 * [min, max]. If that rank falls among overflowed values, returns max and sets
 * *in_overflow (when non-NULL).
 */
uint64_t hist_percentile(const struct hist *h, double p, bool *in_overflow);

/* Verify sum(counts) + overflow == total == expected_n. */
bool hist_consistent(const struct hist *h, uint64_t expected_n);

/* Visit non-empty buckets in order, with running cumulative count. */
typedef int (*hist_visit_fn)(void *arg, uint64_t lo, uint64_t hi, uint64_t count, uint64_t cumulative);
int hist_foreach(const struct hist *h, hist_visit_fn fn, void *arg);
