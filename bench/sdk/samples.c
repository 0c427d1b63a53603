#include "samples.h"

#include <string.h>
#include <unistd.h>

static void prefault(void *mem, uint64_t bytes)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t step = page > 0 ? (uint64_t)page : 4096;
	volatile char *p = mem;
	for (uint64_t i = 0; i < bytes; i += step)
		p[i] = p[i];
	if (bytes)
		p[bytes - 1] = p[bytes - 1];
}

void samples_prefault(struct samples *s)
{
	if (s->stream) {
		struct samples_stream *st = s->stream;
		prefault(st->counts, st->nbuckets * sizeof(uint64_t));
		prefault(st->iv_counts, st->nbuckets * sizeof(uint64_t));
		prefault(st->iv, st->iv_cap * sizeof(*st->iv));
		return;
	}
	if (s->v)
		prefault(s->v, s->cap * sizeof(uint64_t));
}

const char *sample_unit_name(enum sample_unit u)
{
	return u == SAMPLE_NS ? "ns" : "cycles";
}

uint64_t samples_stream_bytes(uint64_t intervals)
{
	uint32_t n = loghist_buckets(SAMPLES_STREAM_MAX_EXP);
	return 2ull * n * sizeof(uint64_t) + intervals * sizeof(struct samples_interval);
}

void samples_stream_init(struct samples_stream *st, void *mem, uint64_t intervals, uint64_t interval_cycles)
{
	memset(st, 0, sizeof(*st));
	st->nbuckets = loghist_buckets(SAMPLES_STREAM_MAX_EXP);
	st->counts = mem;
	st->iv_counts = st->counts + st->nbuckets;
	st->iv = (struct samples_interval *)(st->iv_counts + st->nbuckets);
	st->iv_cap = intervals;
	st->interval_cycles = interval_cycles ? interval_cycles : 1;
	st->min = st->iv_min = UINT64_MAX;
}

/* The upper bound of the bucket holding the value of rank ceil(0.99 n), clamped to [min, max]. */
static uint64_t interval_p99(const struct samples_stream *st)
{
	uint64_t rank = st->iv_count - st->iv_count / 100, seen = 0;
	for (uint32_t i = 0; i < st->nbuckets; i++) {
		seen += st->iv_counts[i];
		if (seen >= rank) {
			uint64_t lo, hi;
			loghist_range(i, &lo, &hi);
			return hi > st->iv_max ? st->iv_max : hi < st->iv_min ? st->iv_min : hi;
		}
	}
	return st->iv_max;   /* in the overflow */
}

static void close_current(struct samples_stream *st)
{
	if (st->iv_count) {
		if (st->iv_n < st->iv_cap)
			st->iv[st->iv_n++] = (struct samples_interval){ .count = st->iv_count, .min = st->iv_min,
									.max = st->iv_max, .p99 = interval_p99(st) };
		else
			st->iv_dropped++;
		memset(st->iv_counts, 0, st->nbuckets * sizeof(uint64_t));
	}
	st->iv_count = 0;
	st->iv_min = UINT64_MAX;
	st->iv_max = 0;
}

void samples_interval_close(struct samples_stream *st, uint64_t t)
{
	if (st->iv_end_tsc)
		close_current(st);
	st->iv_end_tsc = t + st->interval_cycles;
}

void samples_stream_finish(struct samples_stream *st)
{
	close_current(st);
}
