/*
 * Experiment 3, remote deschedule: the guest spins inside a service (an
 * async call, so the master's thread is free); the master decides at t0 and
 * kicks the vCPU (signal + immediate_exit). Sample = host stamp when the
 * kick signal reached the vCPU thread, i.e. the vCPU has left guest mode and
 * is back in the VMM's thread - t0. The guest's last own stamp before it
 * stopped gives a lower bound (reported).
 *
 * Experiment 4, channel mapping: a new one-page channel per sample; the
 * guest's first use maps it (a hypercall that adds the KVM memory slot, the
 * EPT change of the paper) and touches it. Sample = guest cycles for both.
 */
#include "vlib_exp.h"

struct async_done {
	_Atomic int done;
};

static void on_done(int port, int err, void *arg)
{
	(void)port;
	(void)err;
	atomic_store(&((struct async_done *)arg)->done, 1);
}

/* Spin until `word` changes or `cycles` pass; false on timeout. */
static bool wait_change(volatile uint64_t *word, uint64_t old, uint64_t cycles)
{
	uint64_t end = tsc_start() + cycles;
	while (*word == old)
		if (tsc_start() > end)
			return false;
	return true;
}

int exp_desched_measure(struct mech_ctx *ctx, struct samples *s)
{
	struct vlib_state *st = ctx->priv;
	void *addr;
	if (vLib_init(0, 4096, &addr) != VLIB_OK)
		return mech_why(ctx, BENCH_FAIL, "vLib_init failed");
	struct vlib_chan_hdr *hdr = vlib_channel_header(0);
	hdr->op = VLIB_OP_SPIN_STAMP;
	hdr->stop = 0;
	struct async_done done = { 0 };
	if (vLib_async_call(0, on_done, &done, 0) != VLIB_OK)
		return mech_why(ctx, BENCH_FAIL, "vLib_async_call failed");
	uint64_t second = ctx->tsc->tsc_khz * 1000u;
	volatile uint64_t *guest_now = &hdr->guest_now;
	double lower_sum = 0;
	uint64_t n = 0;
	while (!samples_full(s)) {
		uint64_t g = *guest_now;
		if (!wait_change(guest_now, g, second))
			return mech_why(ctx, BENCH_FAIL, "the guest does not run its service");
		uint64_t t0 = tsc_start();
		vlib_os_deschedule(st->os);
		uint64_t end = t0 + second;
		while (vlib_os_parked_tsc(st->os) == 0)
			if (tsc_start() > end)
				return mech_why(ctx, BENCH_FAIL, "the vCPU did not leave guest mode within 1 s");
		uint64_t t_out = vlib_os_kick_tsc(st->os);
		if (t_out <= t0)
			t_out = vlib_os_parked_tsc(st->os);
		uint64_t last_guest = vlib_os_guest_to_host_tsc(st->os, *guest_now);
		if (last_guest > t0) {
			lower_sum += (double)(last_guest - t0);
			n++;
		}
		samples_add(s, t_out - t0);
		vlib_os_resume(st->os);
	}
	hdr->stop = 1;
	for (uint64_t end = tsc_start() + second; !atomic_load(&done.done) && tsc_start() < end;)
		;
	/* the vCPU was still in guest mode at that stamp: a lower bound */
	report_real(ctx->report, "guest_last_stamp_after_decision_mean_cycles", n ? lower_sum / (double)n : 0.0, "cycles");
	report_kv(ctx->report, "what", "master's decision -> kick signal handled on the vCPU thread (out of guest mode)");
	vLib_channel_destroy(0);
	return BENCH_OK;
}

int exp_mapping_measure(struct mech_ctx *ctx, struct samples *s)
{
	uint64_t second_use_nonzero = 0;
	while (!samples_full(s)) {
		void *addr;
		if (vLib_init(0, 4096, &addr) != VLIB_OK)
			return mech_why(ctx, BENCH_FAIL, "vLib_init failed");
		struct vlib_chan_hdr *hdr = vlib_channel_header(0);
		hdr->op = VLIB_OP_NOP;
		int err = vLib_call(0, 0);
		if (err != VLIB_OK)
			return mech_why(ctx, BENCH_FAIL, "first call: %s", vlib_strerror(err));
		uint64_t map_cycles = hdr->map_cycles;
		err = vLib_call(0, 0);
		if (err != VLIB_OK)
			return mech_why(ctx, BENCH_FAIL, "second call: %s", vlib_strerror(err));
		second_use_nonzero += hdr->map_cycles != 0;
		if (map_cycles == 0)
			return mech_why(ctx, BENCH_FAIL, "a new channel was not mapped on first use");
		samples_add(s, map_cycles);
		vLib_channel_destroy(0);
	}
	report_kv(ctx->report, "what", "guest cycles: map hypercall (adds the KVM memory slot) + first touch of the page");
	report_int(ctx->report, "remapped_on_second_use", (int64_t)second_use_nonzero, "");
	if (second_use_nonzero)
		return mech_why(ctx, BENCH_FAIL, "channels were mapped again on their second use");
	return BENCH_OK;
}
