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

static struct {
	const struct hj_transport *t;
	struct hj_session sess;
	struct executive exec;
	struct ns_shared *sh;
	int64_t sleep_ns;
	int mode;
	int policy;                 /* the guest's own, restored in teardown */
	struct sched_param param;
	bool saved;
} ns;

int hj_ns_setup(struct mech_ctx *ctx, int mode)
{
	const struct hijack_cfg *cfg = ctx->cfg;

	memset(&ns, 0, sizeof(ns));
	ns.mode = mode;
	ns.sleep_ns = cfg->sleep_us * 1000;
	ns.policy = sched_getscheduler(0);
	if (ns.policy < 0 || sched_getparam(0, &ns.param) != 0)
		return mech_why_errno(ctx, BENCH_FAIL, "reading the guest's scheduling policy");
	ns.saved = true;
	report_kv(ctx->report, "sleep", "nanosleep(%lld us); guest policy %s", (long long)cfg->sleep_us,
		  ns.policy == SCHED_OTHER ? "SCHED_OTHER" : "real-time");
	if (mode == HJ_SLEEP_LINUX)
		return BENCH_OK;

	ns.sh = peer_shared_alloc(sizeof(*ns.sh));
	if (!ns.sh)
		return mech_why_errno(ctx, BENCH_FAIL, "shared executive state");
	hj_sleep_exec_init(&ns.exec, &ns.sh->sleep, &ns.sh->count, mode == HJ_SLEEP_EXTENDED,
			   (int)cfg->boost_priority, cfg->busy_wait_threshold_us * 1000);
	if (mode == HJ_SLEEP_EXTENDED)
		report_kv(ctx->report, "busy_wait_threshold_us", "%lld", (long long)cfg->busy_wait_threshold_us);
	ns.t = hj_transport_by_id(cfg->transport);
	return hj_session_start(ctx, ns.t, &ns.sess, &ns.exec, cfg->placement);
}

int hj_ns_measure(struct mech_ctx *ctx, struct samples *s)
{
	const uint64_t sleep_cycles = tsc_ns_to_cycles((uint64_t)ns.sleep_ns, ctx->tsc->tsc_khz);
	const struct timespec req = { .tv_sec = ns.sleep_ns / 1000000000, .tv_nsec = ns.sleep_ns % 1000000000 };
	uint64_t failed = 0, early = 0;
	long bad_ret = 0;

	if (ns.t && ns.t->guest_enter)
		ns.t->guest_enter();
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
	if (ns.t && ns.t->guest_leave)
		ns.t->guest_leave();

	report_kv(ctx->report, "early_wakeups", "%llu (counted as 0 error; TSC vs CLOCK_MONOTONIC rounding)",
		  (unsigned long long)early);
	if (ns.sh) {
		const struct hj_counters *c = &ns.sh->count;
		report_kv(ctx->report, "executive_counts", "calls %llu, passed %llu, busy-waited %llu, boosts %llu",
			  (unsigned long long)c->calls, (unsigned long long)c->passed,
			  (unsigned long long)c->busy_waits, (unsigned long long)c->boosts);
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
	(void)ctx;
	if (ns.t && ns.t->guest_leave)
		ns.t->guest_leave();
	hj_session_stop(ns.t, &ns.sess);
	if (ns.saved && sched_setscheduler(0, ns.policy, &ns.param) == 0)
		ns.saved = false;
	if (ns.sh && ns.sess.exec_pid == 0) {
		peer_shared_free(ns.sh, sizeof(*ns.sh));
		ns.sh = NULL;
	}
}
