/*
 * Experiments 1 and 2: the interposed round trip. Each sample is one
 * interposed call plus one pass over the guest's working set, timed
 * together: an executive that evicts the guest's TLB or cache entries
 * (another address space, or just a larger footprint) shows up as a slower
 * walk right after the call. `native` runs the same loop without a
 * transport, so cost(variant, N) - cost(native, N) is the interposition.
 *
 * Every call's result is checked against what the executive promised
 * (emulated getpid returns emulate_value, passed getppid our parent, write
 * returns 1), and afterwards the executive's counters and the memfd's size
 * are checked against the calls made.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exec_basic.h"
#include "guest.h"
#include "hijack.h"
#include "peer.h"

#define CHECK_CALLS 8

struct rt_shared {
	struct hj_counters count;
	struct hj_basic_state basic;
};

static void rt_enter(struct hj_rt_state *rt)
{
	hj_session_enter(rt->t, &rt->sess);
}

static void rt_leave(struct hj_rt_state *rt)
{
	hj_session_leave(rt->t, &rt->sess);
}

static int prepare_call(struct mech_ctx *ctx, struct hj_rt_state *rt, const struct hijack_cfg *cfg)
{
	bool emulate = rt->t && cfg->action == HJ_ACTION_EMULATE;

	switch (cfg->syscall) {
	case HJ_SYS_GETPPID:
		rt->nr = SYS_getppid;
		rt->expect = emulate ? cfg->emulate_value : getppid();
		break;
	case HJ_SYS_GETPID:
		rt->nr = SYS_getpid;
		rt->expect = emulate ? cfg->emulate_value : getpid();
		break;
	default:
		rt->nr = SYS_write;
		rt->memfd = memfd_create("hijack-write", MFD_CLOEXEC);
		if (rt->memfd < 0)
			return mech_why_errno(ctx, BENCH_FAIL, "memfd_create");
		rt->byte = 'h';
		rt->a0 = rt->memfd;
		rt->a1 = (long)&rt->byte;
		rt->a2 = 1;
		rt->expect = 1;
		break;
	}
	report_kv(ctx->report, "call", "%s, %s", hj_syscall_names[cfg->syscall],
		  !rt->t ? "native (action ignored)" : emulate ? "emulated" : "passed");
	report_int(ctx->report, "expected_result", rt->expect, "");
	return BENCH_OK;
}

/* A few untimed calls: the path works and returns what it should. */
static int check_calls(struct mech_ctx *ctx, struct hj_rt_state *rt)
{
	for (int i = 0; i < CHECK_CALLS; i++) {
		rt_enter(rt);
		long ret = hj_guest_call(rt->nr, rt->a0, rt->a1, rt->a2);
		rt_leave(rt);
		rt->calls++;
		if (ret != rt->expect)
			return mech_why(ctx, BENCH_FAIL, "check call %d returned %ld, expected %ld", i, ret, rt->expect);
	}
	if (rt->sh && rt->sh->count.calls != rt->calls)
		return mech_why(ctx, BENCH_FAIL, "the executive saw %llu of %llu calls",
				(unsigned long long)rt->sh->count.calls, (unsigned long long)rt->calls);
	return BENCH_OK;
}

/* The round trip through transport t (NULL: native, no interposition). */
static int rt_setup(struct mech_ctx *ctx, const struct hj_transport *t)
{
	const struct hijack_cfg *cfg = ctx->cfg;
	struct hj_rt_state *rt = &hj_priv(ctx)->rt;

	rt->started = true;
	rt->memfd = -1;
	rt->t = t;
	rt->fault = cfg->fault;
	rt->fault_after = (uint64_t)cfg->fault_after;
	if (hj_ws_init(&rt->ws, cfg->ws_kind, (size_t)cfg->working_set_pages) != 0)
		return mech_why_errno(ctx, BENCH_FAIL, "mapping %lld working-set pages", (long long)cfg->working_set_pages);
	report_int(ctx->report, "working_set_pages", cfg->working_set_pages, "pages");
	report_kv(ctx->report, "working_set", "%s pages, touched after each call inside the timed span",
		  cfg->ws_kind == HJ_WS_DATA ? "data" : "instruction");
	int rc = prepare_call(ctx, rt, cfg);
	if (rc || !t)
		return rc ? rc : check_calls(ctx, rt);

	rt->sh = peer_shared_alloc(sizeof(*rt->sh));
	if (!rt->sh)
		return mech_why_errno(ctx, BENCH_FAIL, "shared executive state");
	hj_basic_init(&rt->exec, &rt->sh->basic, &rt->sh->count, (enum hj_action)cfg->action, cfg->emulate_value,
		      (enum hj_fault)cfg->fault, rt->fault_after);
	rc = hj_session_start(ctx, t, &rt->sess, &rt->exec, cfg->placement);
	return rc ? rc : check_calls(ctx, rt);
}

/* One setup per variant: the transport is the experiment's, not an option. */
int hj_rt_setup_native(struct mech_ctx *ctx) { return rt_setup(ctx, NULL); }
int hj_rt_setup_sud(struct mech_ctx *ctx) { return rt_setup(ctx, &hj_transport_sud); }
int hj_rt_setup_trap(struct mech_ctx *ctx) { return rt_setup(ctx, &hj_transport_seccomp_trap); }
int hj_rt_setup_notify(struct mech_ctx *ctx) { return rt_setup(ctx, &hj_transport_seccomp_notify); }
int hj_rt_setup_ptrace(struct mech_ctx *ctx) { return rt_setup(ctx, &hj_transport_ptrace); }
/* For a transport in a file of its own (hijack_kmod.c). */
int hj_rt_setup_transport(struct mech_ctx *ctx, const struct hj_transport *t) { return rt_setup(ctx, t); }

/* Every sample is one tsc_start()..tsc_end() span: the variants subtract the probe overhead. */
int hj_rt_measure(struct mech_ctx *ctx, struct samples *s)
{
	struct hj_rt_state *rt = &hj_priv(ctx)->rt;
	const long nr = rt->nr, a0 = rt->a0, a1 = rt->a1, a2 = rt->a2, expect = rt->expect;
	const bool guest_dies = rt->fault == HJ_FAULT_GUEST_DIES;
	const struct hj_working_set *ws = &rt->ws;
	uint64_t wrong = 0, calls = 0;
	long wrong_ret = 0;

	rt_enter(rt);
	while (!samples_full(s)) {
		if (guest_dies && calls == rt->fault_after)
			kill(getpid(), SIGKILL);
		uint64_t t0 = tsc_start();
		long ret = hj_guest_call(nr, a0, a1, a2);
		hj_ws_touch(ws);
		uint64_t t1 = tsc_end();
		if (BENCH_UNLIKELY(ret != expect)) {
			wrong++;
			wrong_ret = ret;
		}
		calls++;
		samples_add(s, t1 - t0);
	}
	rt_leave(rt);
	rt->calls += calls;

	if (wrong)
		return mech_why(ctx, BENCH_FAIL, "%llu of %llu calls returned a wrong result (e.g. %ld, expected %ld)",
				(unsigned long long)wrong, (unsigned long long)calls, wrong_ret, expect);
	if (rt->sh) {
		const struct hj_counters *c = &rt->sh->count;
		hj_report_counters(ctx, c);
		report_int(ctx->report, "executive_guest_buffer_reads", (int64_t)rt->sh->basic.bytes_read, "");
		if (c->calls != rt->calls)
			return mech_why(ctx, BENCH_FAIL, "the executive saw %llu of %llu calls",
					(unsigned long long)c->calls, (unsigned long long)rt->calls);
	}
	if (rt->memfd >= 0) {
		struct stat st;
		if (fstat(rt->memfd, &st) != 0)
			return mech_why_errno(ctx, BENCH_FAIL, "fstat(memfd)");
		bool passed = !rt->sh || rt->sh->basic.action == HJ_ACTION_PASS;
		uint64_t want = passed ? rt->calls : 0;
		report_int(ctx->report, "write_check_bytes", (int64_t)st.st_size, "bytes");
		report_int(ctx->report, "write_check_writes", (int64_t)rt->calls, "calls");
		if ((uint64_t)st.st_size != want)
			return mech_why(ctx, BENCH_FAIL, "memfd holds %lld bytes, expected %llu",
					(long long)st.st_size, (unsigned long long)want);
	}
	return BENCH_OK;
}

void hj_rt_teardown(struct mech_ctx *ctx)
{
	struct hj_rt_state *rt = &hj_priv(ctx)->rt;

	if (!rt->started)
		return;
	rt_leave(rt);
	hj_session_stop(rt->t, &rt->sess);
	if (rt->sh && rt->sess.exec_pid == 0) {
		peer_shared_free(rt->sh, sizeof(*rt->sh));
		rt->sh = NULL;
	}
	hj_ws_free(&rt->ws);
	if (rt->memfd >= 0 && close(rt->memfd) == 0)
		rt->memfd = -1;
}
