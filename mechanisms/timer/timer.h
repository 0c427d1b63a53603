/* timer: what timer.c and cyclictest.c share. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "mechanism.h"

#define NSEC_PER_USEC 1000ull
#define NSEC_PER_SEC 1000000000ull

struct timer_cfg {
	int64_t interval_us;
	bool ct_nsecs;       /* cyclictest -N: histogram buckets of 1 ns, not 1 us */
	int64_t ct_hist_us;  /* cyclictest histogram range */
};

/* How long `loops` periods take, for checking against the case's timeout. */
static inline uint64_t timer_run_ns(const struct timer_cfg *cfg, uint64_t loops)
{
	return loops * (uint64_t)cfg->interval_us * NSEC_PER_USEC;
}

/*
 * The periods a case runs: its samples, or for a duration_s case (streamed,
 * cap unbounded) as many periods as fit before its deadline.
 */
static inline uint64_t timer_case_loops(const struct mech_ctx *ctx, const struct timer_cfg *cfg,
					const struct samples *s)
{
	if (!s->deadline_tsc)
		return s->cap;
	uint64_t now = __rdtsc();
	if (s->deadline_tsc <= now || !ctx->tsc || !ctx->tsc->tsc_khz)
		return 1;
	double left_ns = (double)(s->deadline_tsc - now) * 1e6 / (double)ctx->tsc->tsc_khz;
	uint64_t loops = (uint64_t)(left_ns / ((double)cfg->interval_us * NSEC_PER_USEC));
	return loops ? loops : 1;
}

/* CLOCK_MONOTONIC in ns; 0 only if the clock is broken. */
static inline uint64_t timer_mono_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* The cyclictest child (cyclictest.c); ctx->priv. */
#define CT_MAX_ARGS 16
struct ct_run {
	bool started;          /* setup ran: pid and fds are ours to close */
	pid_t pid;
	int out_fd, err_fd;
	char *argv[CT_MAX_ARGS + 1];
	char args[CT_MAX_ARGS][40];
	int argc;
	char err_tail[160];    /* the end of cyclictest's stderr, for reasons */
};

/* The cyclictest variant (cyclictest.c). */
int ct_probe(struct mech_ctx *ctx);
int ct_setup(struct mech_ctx *ctx);
int ct_measure(struct mech_ctx *ctx, struct samples *s);
void ct_teardown(struct mech_ctx *ctx);
