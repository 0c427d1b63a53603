/*
 * The log-linear bucket layout shared by the harness's histograms
 * (bench/core/hist.h) and the streaming sample recorder (samples.h).
 *
 * Values below 2^LOGHIST_SUB_BITS are exact. Above, each power-of-two
 * octave [2^e, 2^(e+1)) is split into 2^LOGHIST_SUB_BITS equal buckets, so a
 * bucket's width is at most value / 2^LOGHIST_SUB_BITS: the relative error
 * of anything read from a bucket is bounded by 2^-LOGHIST_SUB_BITS (0.78%).
 */
#pragma once
#include <stdint.h>

#define LOGHIST_SUB_BITS 7
#define LOGHIST_SUB_COUNT (1u << LOGHIST_SUB_BITS)

/* Buckets needed to cover [0, 2^(max_exp+1)), max_exp in [LOGHIST_SUB_BITS, 63]. */
static inline uint32_t loghist_buckets(unsigned max_exp)
{
	return LOGHIST_SUB_COUNT + (max_exp - LOGHIST_SUB_BITS + 1) * LOGHIST_SUB_COUNT;
}

static inline uint32_t loghist_index(uint64_t v)
{
	if (v < LOGHIST_SUB_COUNT)
		return (uint32_t)v;
	unsigned e = 63u - (unsigned)__builtin_clzll(v);
	unsigned shift = e - LOGHIST_SUB_BITS;
	uint32_t sub = (uint32_t)(v >> shift) - LOGHIST_SUB_COUNT;
	return LOGHIST_SUB_COUNT + (e - LOGHIST_SUB_BITS) * LOGHIST_SUB_COUNT + sub;
}

/* Inclusive value range [lo, hi] of bucket i. */
static inline void loghist_range(uint32_t i, uint64_t *lo, uint64_t *hi)
{
	if (i < LOGHIST_SUB_COUNT) {
		*lo = *hi = i;
		return;
	}
	uint32_t octave = (i - LOGHIST_SUB_COUNT) / LOGHIST_SUB_COUNT;   /* e - LOGHIST_SUB_BITS */
	uint32_t sub = (i - LOGHIST_SUB_COUNT) % LOGHIST_SUB_COUNT;
	*lo = ((uint64_t)LOGHIST_SUB_COUNT + sub) << octave;
	*hi = *lo + ((uint64_t)1 << octave) - 1;
}
