/*
 * Experiment 2: vLib call overhead as the paper measures it, T1 - T2:
 *   T1 = client time from entering the call to its return (sync), or from
 *        issuing it to the callback running (async);
 *   T2 = server time from vLib_listen returning to the next vLib_listen
 *        entering (guest stamps), i.e. the service itself.
 * With op=transform the guest XORs every payload byte with (seq + i); the
 * client checks every byte after each call (outside T1).
 */
#include <string.h>

#include "vlib_exp.h"

struct async_done {
	_Atomic uint64_t tsc;
	_Atomic int err;
};

static void on_done(int port, int err, void *arg)
{
	(void)port;
	struct async_done *d = arg;
	atomic_store(&d->err, err);
	atomic_store_explicit(&d->tsc, tsc_end(), memory_order_release);
}

static void fill(uint8_t *data, size_t n, uint64_t seq)
{
	for (size_t i = 0; i < n; i++)
		data[i] = (uint8_t)(i * 13 + seq);
}

static uint64_t mismatches(const uint8_t *data, size_t n, uint64_t seq)
{
	uint64_t bad = 0;
	for (size_t i = 0; i < n; i++)
		bad += data[i] != (uint8_t)((uint8_t)(i * 13 + seq) ^ (uint8_t)(seq + i));
	return bad;
}

static int call_measure(struct mech_ctx *ctx, struct samples *s, bool async)
{
	const struct vlib_cfg *cfg = ctx->cfg;
	size_t n = (size_t)cfg->channel_bytes;
	void *addr;
	int err = vLib_init(0, n, &addr);
	if (err != VLIB_OK)
		return mech_why(ctx, BENCH_FAIL, "vLib_init: %s", vlib_strerror(err));
	uint8_t *data = addr;
	struct vlib_chan_hdr *hdr = vlib_channel_header(0);
	hdr->op = cfg->op == 0 ? VLIB_OP_NOP : VLIB_OP_TRANSFORM;
	hdr->data_bytes = n;
	uint64_t timeout_ns = (uint64_t)cfg->timeout_us * 1000u, calls = 0, checked = 0, bad = 0, negative = 0;
	uint64_t t2_sum = 0;
	bool verify = cfg->verify && hdr->op == VLIB_OP_TRANSFORM;
	struct async_done done;
	while (!samples_full(s)) {
		uint64_t seq = calls + 1;
		hdr->arg = seq;
		if (verify)
			fill(data, n, seq);
		atomic_store(&done.tsc, 0);
		uint64_t t0 = tsc_start(), t1;
		if (!async) {
			err = vLib_call(0, timeout_ns);
			t1 = tsc_end();
		} else {
			err = vLib_async_call(0, on_done, &done, timeout_ns);
			while (err == VLIB_OK && atomic_load_explicit(&done.tsc, memory_order_acquire) == 0)
				__builtin_ia32_pause();
			t1 = atomic_load(&done.tsc);
			if (err == VLIB_OK)
				err = atomic_load(&done.err);
		}
		calls++;
		if (err != VLIB_OK) {
			char how[200] = "";
			vlib_os_ended(vlib_os_at_port(0), how, sizeof(how));
			return mech_why(ctx, BENCH_FAIL, "call %llu: %s%s%s", (unsigned long long)calls, vlib_strerror(err),
					how[0] ? ": " : "", how);
		}
		uint64_t t2 = hdr->t_listen_enter - hdr->t_listen_return;
		if (verify) {
			bad += mismatches(data, n, seq);
			checked += n;
		}
		if (t1 - t0 <= t2) {
			negative++;
			continue;
		}
		t2_sum += t2;
		samples_add(s, (t1 - t0) - t2);
	}
	report_int(ctx->report, "calls", (int64_t)calls, "");
	report_real(ctx->report, "mean_t2_cycles", calls ? (double)t2_sum / (double)calls : 0.0, "cycles");
	report_int(ctx->report, "payload_checked_bytes", (int64_t)checked, "bytes");
	report_int(ctx->report, "payload_mismatches", (int64_t)bad, "bytes");
	report_int(ctx->report, "t1_not_above_t2", (int64_t)negative, "");
	vLib_channel_destroy(0);
	if (bad)
		return mech_why(ctx, BENCH_FAIL, "%llu of %llu payload bytes came back wrong", (unsigned long long)bad,
				(unsigned long long)checked);
	if (negative > calls / 100)
		return mech_why(ctx, BENCH_FAIL, "%llu calls had T1 <= T2: time base broken", (unsigned long long)negative);
	return BENCH_OK;
}

int exp_call_sync_measure(struct mech_ctx *ctx, struct samples *s)
{
	return call_measure(ctx, s, false);
}

int exp_call_async_measure(struct mech_ctx *ctx, struct samples *s)
{
	return call_measure(ctx, s, true);
}
