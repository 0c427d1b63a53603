/*
 * What the periodic experiments (exp_membus.c, exp_lidar.c) share: the
 * monotonic clock and absolute sleeps of their periods, and a co-runner
 * that runs as an endless vLib call in the vLib OS guest (started with no
 * timeout, asked to stop through its channel header).
 */
#include <time.h>

#include "vlib_exp.h"

uint64_t vlib_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void vlib_sleep_until_ns(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000u), .tv_nsec = (long)(t % 1000000000u) };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0)
		;
}

static void on_done(int port, int err, void *arg)
{
	(void)port;
	(void)err;
	atomic_store((_Atomic int *)arg, 1);
}

int vlib_exp_guest_corunner_start(struct mech_ctx *ctx, uint32_t op, uint64_t arg, _Atomic int *done,
				  struct vlib_chan_hdr **hdr)
{
	void *addr;
	int err = vLib_init(0, 64, &addr);
	if (err != VLIB_OK)
		return mech_why(ctx, BENCH_FAIL, "vLib_init: %s", vlib_strerror(err));
	*hdr = vlib_channel_header(0);
	(*hdr)->op = op;
	(*hdr)->arg = arg;
	(*hdr)->stop = 0;
	err = vLib_async_call(0, on_done, (void *)done, 0);   /* no timeout: nobody limits it */
	if (err != VLIB_OK)
		return mech_why(ctx, BENCH_FAIL, "vLib_async_call: %s", vlib_strerror(err));
	return BENCH_OK;
}

int vlib_exp_guest_corunner_stop(struct mech_ctx *ctx, struct vlib_chan_hdr *hdr, _Atomic int *done, int rc)
{
	hdr->stop = 1;
	for (uint64_t end = tsc_start() + ctx->tsc->tsc_khz * 1000u * VLIB_STOP_WAIT_S;
	     !atomic_load(done) && tsc_start() < end;)
		__builtin_ia32_pause();
	if (!atomic_load(done) && rc == BENCH_OK)
		return mech_why(ctx, BENCH_FAIL, "the guest's co-runner did not end within %d s of its stop request",
				VLIB_STOP_WAIT_S);
	return rc;
}
