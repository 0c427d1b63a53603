/*
 * What a mechanism's timed loop records.
 *
 * Memory is allocated and prefaulted before measure() starts, in a mapping
 * shared with the parent harness process, so a crashed case still leaves
 * what it recorded. samples_add() is the only thing the timed loop calls: it
 * discards and counts warm-up samples, then records raw values. Two modes,
 * chosen by the harness (the mechanism does not care):
 *
 *   kept      every raw value in v[] (8 bytes each); the parent computes
 *             exact statistics afterwards.
 *   streamed  long runs (duration_s, keep_samples = false, or more samples
 *             than the harness keeps): each value goes straight into a
 *             log-linear histogram of raw values (loghist.h: <= 0.78% error
 *             per bucket; min, max, mean and stddev exact) plus per-interval
 *             summaries (count, min, max, p99), in constant memory.
 *
 * samples_full() says when to stop: after `cap` samples, or at the deadline
 * of a duration_s case.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <x86intrin.h>

#include "loghist.h"

enum sample_unit {
	SAMPLE_UNIT_DEFAULT = 0,   /* in a variant: the mechanism's; in a mechanism: cycles */
	SAMPLE_CYCLES = 1,         /* TSC deltas */
	SAMPLE_NS = 2,             /* nanoseconds (clock_gettime based mechanisms) */
};

/* "cycles" or "ns" */
const char *sample_unit_name(enum sample_unit u);

/* Raw values above 2^(SAMPLES_STREAM_MAX_EXP+1) (~5 hours in ns) are counted as overflow. */
#define SAMPLES_STREAM_MAX_EXP 43

/* One interval of a streamed case. Values in the case's raw unit; p99 is a bucket's upper bound. */
struct samples_interval {
	uint64_t count, min, max, p99;
};

/* The streamed mode's state, in the shared mapping; see samples_stream_init(). */
struct samples_stream {
	uint64_t *counts;             /* nbuckets: every kept value */
	uint64_t *iv_counts;          /* nbuckets: the current interval's */
	struct samples_interval *iv;  /* iv_cap closed intervals */
	uint32_t nbuckets;
	uint32_t pad;
	uint64_t iv_cap, iv_n;        /* intervals room and closed; later ones are counted in iv_dropped */
	uint64_t iv_dropped;
	uint64_t interval_cycles;     /* TSC cycles per interval */
	uint64_t iv_end_tsc;          /* end of the current interval (0: not started) */
	uint64_t overflow;
	uint64_t min, max;
	uint64_t iv_min, iv_max, iv_count;
	uint64_t shift;               /* the first value: sums are taken around it (no cancellation) */
	double sum, sumsq;            /* of (v - shift) */
};

struct samples {
	uint64_t *v;              /* kept mode: cap entries; NULL when streamed */
	uint64_t cap;             /* samples wanted after warm-up (UINT64_MAX: until the deadline) */
	uint64_t count;           /* samples recorded */
	uint64_t warmup_target;   /* samples to discard first */
	uint64_t warmup_discarded;
	uint64_t missed;          /* periods missed (periodic mechanisms) */
	uint32_t unit;            /* enum sample_unit */
	uint32_t pad;
	uint64_t deadline_tsc;    /* duration_s cases: stop at this TSC (0: none) */
	struct samples_stream *stream;   /* NULL: kept mode */
};

/* Out of line: closes the interval that ended at t and opens the next. */
void samples_interval_close(struct samples_stream *st, uint64_t t);

static inline bool samples_full(const struct samples *s)
{
	if (s->count >= s->cap)
		return true;
	return s->deadline_tsc && __rdtsc() >= s->deadline_tsc;
}

static inline void samples_stream_add(struct samples_stream *st, uint64_t v)
{
	uint64_t t = __rdtsc();
	if (t >= st->iv_end_tsc)
		samples_interval_close(st, t);
	uint32_t i = loghist_index(v);
	if (i < st->nbuckets) {
		st->counts[i]++;
		st->iv_counts[i]++;
	} else {
		st->overflow++;
	}
	if (v < st->min)
		st->min = v;
	if (v > st->max)
		st->max = v;
	if (v < st->iv_min)
		st->iv_min = v;
	if (v > st->iv_max)
		st->iv_max = v;
	st->iv_count++;
	double d = (double)v - (double)st->shift;
	st->sum += d;
	st->sumsq += d * d;
}

static inline void samples_add(struct samples *s, uint64_t v)
{
	if (s->warmup_discarded < s->warmup_target) {
		s->warmup_discarded++;
		return;
	}
	if (s->count >= s->cap)
		return;
	if (s->stream) {
		if (s->count == 0)
			s->stream->shift = v;
		samples_stream_add(s->stream, v);
		s->count++;
		return;
	}
	s->v[s->count++] = v;
}

/* Touch every page of what measure() writes so the timed loop takes no page faults. */
void samples_prefault(struct samples *s);

/*
 * Bytes the streamed mode needs after `struct samples_stream` for intervals
 * intervals, and the layout: call with the memory right after the struct.
 */
uint64_t samples_stream_bytes(uint64_t intervals);
void samples_stream_init(struct samples_stream *st, void *mem, uint64_t intervals, uint64_t interval_cycles);
/* After measure(): close the interval in progress (if it holds values). */
void samples_stream_finish(struct samples_stream *st);
