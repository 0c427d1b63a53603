/*
 * Raw sample buffer written by a mechanism's timed loop.
 *
 * The buffer is allocated and prefaulted before measure() starts (in memory
 * shared with the parent harness process, so a crashed case still leaves the
 * samples it took). samples_add() is the only thing the timed loop calls: it
 * discards and counts warm-up samples, then stores raw values; all statistics
 * are computed afterwards by the parent.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

enum sample_unit {
	SAMPLE_UNIT_DEFAULT = 0,   /* in a variant: the mechanism's; in a mechanism: cycles */
	SAMPLE_CYCLES = 1,         /* TSC deltas */
	SAMPLE_NS = 2,             /* nanoseconds (clock_gettime based mechanisms) */
};

/* "cycles" or "ns" */
const char *sample_unit_name(enum sample_unit u);

struct samples {
	uint64_t *v;              /* cap entries */
	uint64_t cap;             /* samples wanted after warm-up */
	uint64_t count;           /* samples stored */
	uint64_t warmup_target;   /* samples to discard first */
	uint64_t warmup_discarded;
	uint64_t missed;          /* periods missed (periodic mechanisms) */
	uint32_t unit;            /* enum sample_unit */
	uint32_t pad;
};

static inline bool samples_full(const struct samples *s)
{
	return s->count >= s->cap;
}

static inline void samples_add(struct samples *s, uint64_t v)
{
	if (s->warmup_discarded < s->warmup_target) {
		s->warmup_discarded++;
		return;
	}
	if (s->count < s->cap)
		s->v[s->count++] = v;
}

/* Touch every page of the buffer so the timed loop takes no page faults. */
void samples_prefault(struct samples *s);
