/*
 * Experiment 3: nanosleep wake-up error, the time from the requested end of
 * a nanosleep(d) to the guest running again, under a CPU-bound co-runner
 * (the suite puts `spin` on the guest's CPU; the guest is SCHED_OTHER).
 *
 *   nanosleep-linux     the guest's nanosleep goes straight to the kernel
 *   nanosleep-hijack    interposed; the executive raises the sleeper to
 *                       SCHED_FIFO, so it preempts the co-runner on wake-up
 *   nanosleep-extended  as hijack, and requests shorter than
 *                       busy_wait_threshold_us are busy-waited by the executive
 *
 * One sample: (TSC after the call - TSC before it) - d, in cycles. The
 * guest's priority is put back afterwards.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>

#include "exec_nanosleep.h"
#include "guest.h"
#include "hijack.h"
#include "peer.h"

struct ns_shared {
	struct hj_counters count;
	struct hj_sleep_state sleep;
};

/* What distinguishes the three variants. */
struct ns_mode {
	bool interposed;   /* an executive boosts the sleeper */
	bool busy_wait;    /* and busy-waits short requests (Hijack Extended) */
};

static const struct ns_mode ns_linux = { .interposed = false };
static const struct ns_mode ns_hijack = { .interposed = true };
static const struct ns_mode ns_extended = { .interposed = true, .busy_wait = true };

static int ns_setup(struct mech_ctx *ctx, const struct ns_mode *mode)
{
	const struct hijack_cfg *cfg = ctx->cfg;
	struct hj_ns_state *ns = &hj_priv(ctx)->ns;

	ns->started = true;
	ns->sleep_ns = cfg->sleep_us * 1000;
	ns->policy = sched_getscheduler(0);
	if (ns->policy < 0 || sched_getparam(0, &ns->param) != 0)
		return mech_why_errno(ctx, BENCH_FAIL, "reading the guest's scheduling policy");
	ns->saved = true;
	report_int(ctx->report, "sleep_us", cfg->sleep_us, "us");
	report_kv(ctx->report, "guest_policy", "%s", ns->policy == SCHED_OTHER ? "SCHED_OTHER" : "real-time");
	if (!mode->interposed)
		return BENCH_OK;

	ns->sh = peer_shared_alloc(sizeof(*ns->sh));
	if (!ns->sh)
		return mech_why_errno(ctx, BENCH_FAIL, "shared executive state");
	int64_t threshold_us = mode->busy_wait ? cfg->busy_wait_threshold_us : 0;
	hj_sleep_exec_init(&ns->exec, &ns->sh->sleep, &ns->sh->count, mode->busy_wait, (int)cfg->boost_priority,
			   threshold_us * 1000);
	if (mode->busy_wait)
		report_int(ctx->report, "busy_wait_threshold_us", threshold_us, "us");
	ns->t = hj_transport_by_id(cfg->transport);
	return hj_session_start(ctx, ns->t, &ns->sess, &ns->exec, cfg->placement);
}

int hj_ns_setup_linux(struct mech_ctx *ctx) { return ns_setup(ctx, &ns_linux); }
int hj_ns_setup_hijack(struct mech_ctx *ctx) { return ns_setup(ctx, &ns_hijack); }
int hj_ns_setup_extended(struct mech_ctx *ctx) { return ns_setup(ctx, &ns_extended); }

int hj_ns_measure(struct mech_ctx *ctx, struct samples *s)
{
	struct hj_ns_state *ns = &hj_priv(ctx)->ns;
	const uint64_t sleep_cycles = tsc_ns_to_cycles((uint64_t)ns->sleep_ns, ctx->tsc->tsc_khz);
	const struct timespec req = { .tv_sec = ns->sleep_ns / 1000000000, .tv_nsec = ns->sleep_ns % 1000000000 };
	uint64_t failed = 0, early = 0;
	long bad_ret = 0;

	hj_session_enter(ns->t, &ns->sess);
	while (!samples_full(s)) {
		uint64_t t0 = tsc_start();
		long ret = hj_guest_call(SYS_nanosleep, (long)&req, 0, 0);
		uint64_t t1 = tsc_end();
		if (BENCH_UNLIKELY(ret != 0)) {
			failed++;
			bad_ret = ret;
		}
		uint64_t slept = t1 - t0;
		early += slept < sleep_cycles;
		samples_add(s, slept > sleep_cycles ? slept - sleep_cycles : 0);
	}
	hj_session_leave(ns->t, &ns->sess);

	/* counted as 0 error: TSC vs CLOCK_MONOTONIC rounding */
	report_int(ctx->report, "early_wakeups", (int64_t)early, "calls");
	if (ns->sh) {
		const struct hj_counters *c = &ns->sh->count;
		hj_report_counters(ctx, c);
		if (c->last_error)
			return mech_why(ctx, BENCH_FAIL, "the executive failed: %s", strerror((int)c->last_error));
		if (c->calls == 0)
			return mech_why(ctx, BENCH_FAIL, "no nanosleep reached the executive");
	}
	if (failed)
		return mech_why(ctx, BENCH_FAIL, "%llu nanosleep calls failed (e.g. %ld)", (unsigned long long)failed,
				bad_ret);
	return BENCH_OK;
}

void hj_ns_teardown(struct mech_ctx *ctx)
{
	struct hj_ns_state *ns = &hj_priv(ctx)->ns;

	if (!ns->started)
		return;
	hj_session_leave(ns->t, &ns->sess);
	hj_session_stop(ns->t, &ns->sess);
	if (ns->saved && sched_setscheduler(0, ns->policy, &ns->param) == 0)
		ns->saved = false;
	if (ns->sh && ns->sess.exec_pid == 0) {
		peer_shared_free(ns->sh, sizeof(*ns->sh));
		ns->sh = NULL;
	}
}
