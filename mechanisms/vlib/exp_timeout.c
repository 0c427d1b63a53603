/*
 * Experiment 6, timeouts and FIFO.
 * timeout: the server never answers (it spins in its service); each
 *   vLib_call must return VLIB_ETIMEDOUT no earlier than its timeout.
 *   Sample = return time - timeout (the overshoot). After a timeout the
 *   master deschedules the guest; the next call lends it a budget again.
 *   A stuck server holds its queued requests: keep samples + warmup < 64.
 * fifo: `clients` threads call concurrently; the guest numbers requests in
 *   the order it serves them and each must equal its arrival ticket.
 *   Sample = the measuring thread's call cycles.
 */
#include <pthread.h>

#include "vlib_exp.h"

int exp_timeout_measure(struct mech_ctx *ctx, struct samples *s)
{
	const struct vlib_cfg *cfg = ctx->cfg;
	uint64_t timeout_ns = (uint64_t)cfg->timeout_us * 1000u;   /* at least 1 us (its option's range) */
	uint64_t timeout_cycles = tsc_ns_to_cycles(timeout_ns, ctx->tsc->tsc_khz);
	void *addr;
	if (vLib_init(0, 64, &addr) != VLIB_OK)
		return mech_why(ctx, BENCH_FAIL, "vLib_init failed");
	struct vlib_chan_hdr *hdr = vlib_channel_header(0);
	hdr->op = VLIB_OP_NEVER_ANSWER;
	uint64_t early = 0, max_over = 0;
	while (!samples_full(s)) {
		uint64_t t0 = tsc_start();
		int err = vLib_call(0, timeout_ns);
		uint64_t t1 = tsc_end();
		if (err != VLIB_ETIMEDOUT)
			return mech_why(ctx, BENCH_FAIL, "a never-answering server: vLib_call returned '%s'", vlib_strerror(err));
		if (t1 - t0 < timeout_cycles) {
			early++;
			continue;
		}
		uint64_t over = t1 - t0 - timeout_cycles;
		max_over = over > max_over ? over : max_over;
		samples_add(s, over);
	}
	report_int(ctx->report, "timeout_ns", (int64_t)timeout_ns, "ns");
	report_int(ctx->report, "max_overshoot_ns", (int64_t)tsc_cycles_to_ns(max_over, ctx->tsc->tsc_khz), "ns");
	report_kv(ctx->report, "what", "cycles by which vLib_call's return exceeded its timeout (all returned VLIB_ETIMEDOUT)");
	if (early)
		return mech_why(ctx, BENCH_FAIL, "%llu calls returned before their timeout", (unsigned long long)early);
	return BENCH_OK;
}

struct fifo_shared {
	_Atomic int stop;
	_Atomic uint64_t out_of_order;
	_Atomic uint64_t calls;
	_Atomic int errors;
};

static uint64_t fifo_call(struct fifo_shared *sh, struct vlib_chan_hdr *hdr, uint64_t *cycles)
{
	uint64_t t0 = tsc_start();
	int err = vLib_call(0, 0);
	*cycles = tsc_end() - t0;
	if (err != VLIB_OK) {
		atomic_fetch_add(&sh->errors, 1);
		return 1;
	}
	atomic_fetch_add(&sh->calls, 1);
	if (hdr->served_index != hdr->ticket)
		atomic_fetch_add(&sh->out_of_order, 1);
	return 0;
}

static void *fifo_client(void *arg)
{
	struct fifo_shared *sh = arg;
	void *addr;
	if (vLib_init(0, 64, &addr) != VLIB_OK) {
		atomic_fetch_add(&sh->errors, 1);
		return NULL;
	}
	struct vlib_chan_hdr *hdr = vlib_channel_header(0);
	hdr->op = VLIB_OP_NOP;
	uint64_t cycles;
	while (!atomic_load(&sh->stop))
		if (fifo_call(sh, hdr, &cycles))
			break;
	vLib_channel_destroy(0);
	return NULL;
}

int exp_fifo_measure(struct mech_ctx *ctx, struct samples *s)
{
	const struct vlib_cfg *cfg = ctx->cfg;
	struct fifo_shared sh = { 0 };
	pthread_t threads[16];
	int started = 0;
	for (int i = 0; i < cfg->clients - 1; i++, started++)
		if (pthread_create(&threads[i], NULL, fifo_client, &sh) != 0)
			break;
	void *addr;
	int rc = BENCH_OK;
	if (vLib_init(0, 64, &addr) != VLIB_OK) {
		rc = mech_why(ctx, BENCH_FAIL, "vLib_init failed");
	} else {
		struct vlib_chan_hdr *hdr = vlib_channel_header(0);
		hdr->op = VLIB_OP_NOP;
		while (!samples_full(s) && rc == BENCH_OK) {
			uint64_t cycles;
			if (fifo_call(&sh, hdr, &cycles))
				rc = mech_why(ctx, BENCH_FAIL, "a call failed");
			else
				samples_add(s, cycles);
		}
		vLib_channel_destroy(0);
	}
	atomic_store(&sh.stop, 1);
	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	report_int(ctx->report, "clients", started + 1, "threads");
	report_int(ctx->report, "fifo_calls_checked", (int64_t)atomic_load(&sh.calls), "");
	report_int(ctx->report, "fifo_out_of_order", (int64_t)atomic_load(&sh.out_of_order), "");
	if (rc == BENCH_OK && (atomic_load(&sh.out_of_order) || atomic_load(&sh.errors)))
		rc = mech_why(ctx, BENCH_FAIL, "%llu requests served out of arrival order, %d errors",
			      (unsigned long long)atomic_load(&sh.out_of_order), atomic_load(&sh.errors));
	return rc;
}
