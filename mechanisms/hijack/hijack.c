/*
 * hijack: system call interposition with upcalls to a user-level executive
 * (seed 000, Hijack, Parmer and West), realized four ways on stock Linux
 * (transport.h), and the paper's experiments as variants:
 *
 *   native, sud, seccomp-trap,      experiments 1 and 2: interposed round trip
 *   seccomp-notify, ptrace          (pass or emulate) after touching a working set
 *   nanosleep-linux, -hijack,       experiment 3: nanosleep wake-up error
 *   -extended
 *   qos-same, qos-increasing,       experiment 4: four UDP receivers
 *   qos-tokens
 *   timer                           experiment 5: timer expiry to the executive's handler
 *
 * Samples are TSC cycles throughout (wake-up error and timer latency are
 * converted from their clocks); the probe overhead is included, not
 * subtracted, because only some variants are a single probed span.
 */
#include "hijack.h"

#include "exec_basic.h"
#include "guest.h"

enum {
	V_NATIVE, V_SUD, V_TRAP, V_NOTIFY, V_PTRACE,
	V_NS_LINUX, V_NS_HIJACK, V_NS_EXTENDED,
	V_QOS_SAME, V_QOS_INCREASING, V_QOS_TOKENS,
	V_TIMER,
};

static const struct variant_desc hijack_variants[] = {
	[V_NATIVE] = { "native", "the guest loop without interposition: the baseline at the same working set" },
	[V_SUD] = { "sud", "syscall user dispatch: SIGSYS handler in the guest (no address-space switch)" },
	[V_TRAP] = { "seccomp-trap", "seccomp SECCOMP_RET_TRAP: SIGSYS handler in the guest" },
	[V_NOTIFY] = { "seccomp-notify", "seccomp user notification: executive process (address-space switch)" },
	[V_PTRACE] = { "ptrace", "executive is a tracer: PTRACE_SYSEMU to emulate, PTRACE_SYSCALL to pass" },
	[V_NS_LINUX] = { "nanosleep-linux", "nanosleep wake-up error, plain Linux (not interposed)" },
	[V_NS_HIJACK] = { "nanosleep-hijack", "nanosleep interposed: the executive raises the sleeper to SCHED_FIFO" },
	[V_NS_EXTENDED] = { "nanosleep-extended",
			    "as nanosleep-hijack, but the executive busy-waits requests below busy_wait_threshold_us" },
	[V_QOS_SAME] = { "qos-same", "four UDP receivers, Linux, same priority (load packet-stream)" },
	[V_QOS_INCREASING] = { "qos-increasing", "four UDP receivers, Linux, increasing SCHED_FIFO priorities" },
	[V_QOS_TOKENS] = { "qos-tokens", "four UDP receivers under the paper's token-based executive (seccomp-notify)" },
	[V_TIMER] = { "timer", "timer expiry (POSIX timer, signal) to the executive's handler" },
	{ NULL, NULL },
};

const char *const hj_syscall_names[] = { "getppid", "getpid", "write", NULL };
static const char *const action_names[] = { "pass", "emulate", NULL };
static const char *const ws_kind_names[] = { "data", "instruction", NULL };
static const char *const placement_choices[] = { "same", "split", NULL };
static const char *const fault_names[] = { "none", "guest-dies", "executive-hangs", NULL };
static const char *const transport_names[] = { "sud", "seccomp-trap", "seccomp-notify", "ptrace", NULL };
static const char *const timer_wait_names[] = { "spin", "sleep", NULL };

#define C struct hijack_cfg
const struct opt_desc hijack_opts[] = {
	OPT_ENUM_FIELD(C, syscall, "getppid", hj_syscall_names,
		       "round trip: the interposed call (write: 1 byte to a memfd, checked afterwards)"),
	OPT_ENUM_FIELD(C, action, "pass", action_names, "round trip: the executive passes the call or emulates it"),
	OPT_INT_FIELD(C, emulate_value, "4242", 0, 1 << 30, "", "round trip: what an emulated getpid/getppid returns"),
	OPT_INT_FIELD(C, working_set_pages, "0", 0, 16384, "pages",
		      "round trip: pages the guest touches after each call (inside the timed span)"),
	OPT_ENUM_FIELD(C, ws_kind, "data", ws_kind_names,
		       "round trip: working set of data pages (one load each) or instruction pages (a jump chain)"),
	OPT_ENUM_FIELD(C, placement, "same", placement_choices,
		       "seccomp-notify, ptrace, qos-tokens: executive process on the guest's CPU (same, the "
		       "paper's uniprocessor) or on peer_cpu (split)"),
	OPT_ENUM_FIELD(C, fault, "none", fault_names,
		       "round trip, for tests: the guest kills itself, or the executive stops answering"),
	OPT_INT_FIELD(C, fault_after, "100", 0, 1 << 30, "calls", "calls before the fault"),
	OPT_ENUM_FIELD(C, transport, "sud", transport_names, "nanosleep-hijack/-extended, timer: the transport used"),
	OPT_INT_FIELD(C, sleep_us, "1000", 1, 1000000, "us", "nanosleep: the requested sleep"),
	OPT_INT_FIELD(C, busy_wait_threshold_us, "10000", 0, 1000000, "us",
		      "nanosleep-extended: requests shorter than this are busy-waited (paper: one 10 ms tick)"),
	OPT_INT_FIELD(C, boost_priority, "50", 1, 99, "", "nanosleep-hijack/-extended: SCHED_FIFO priority given to the sleeper"),
	OPT_INT_FIELD(C, period_us, "1000", 20, 1000000, "us", "timer: timer period"),
	OPT_ENUM_FIELD(C, timer_wait, "sleep", timer_wait_names,
		       "timer: the guest spins (handler interrupts it) or sleeps in sigsuspend"),
	OPT_INT_FIELD(C, port, "47000", 1024, 65000, "", "qos: UDP port of stream 0 (stream i: port + i)"),
	OPT_INT_FIELD(C, rate, "42000", 1, 1000000, "packets/s", "qos: the sender's rate per stream (token sizing)"),
	OPT_INT_FIELD(C, task_start_ms, "1000", 10, 60000, "ms", "qos: interval between task starts (paper: 5 s)"),
	OPT_INT_FIELD(C, hold_ms, "1000", 0, 60000, "ms", "qos: run time after the last task started"),
	OPT_INT_FIELD(C, interval_ms, "100", 1, 10000, "ms", "qos: CSV interval for packets and jitter"),
	OPT_INT_FIELD(C, work_us, "20", 0, 100000, "us", "qos: CPU work per received packet"),
	OPT_INT_FIELD(C, token_period_ms, "10", 1, 10000, "ms", "qos-tokens: token refresh period"),
	OPT_STR_FIELD(C, qos, "40,30,20",
		      "qos-tokens: percent of the receiving CPU's packets for tasks 0,1,2 per period; task 3 best effort"),
	OPT_TABLE_END,
};
#undef C

const struct hj_transport *hj_transport_by_id(int id)
{
	switch (id) {
	case HJ_T_SUD: return &hj_transport_sud;
	case HJ_T_SECCOMP_TRAP: return &hj_transport_seccomp_trap;
	case HJ_T_SECCOMP_NOTIFY: return &hj_transport_seccomp_notify;
	case HJ_T_PTRACE: return &hj_transport_ptrace;
	default: return NULL;
	}
}

static int hijack_probe(struct mech_ctx *ctx)
{
	if (ctx->variant >= V_QOS_SAME && ctx->variant <= V_QOS_TOKENS && ctx->cpu < 0)
		return mech_why(ctx, BENCH_SKIP, "qos needs a pinned receiving CPU");
	return BENCH_OK;
}

static int hijack_setup(struct mech_ctx *ctx)
{
	unsigned v = ctx->variant;

	if (v <= V_PTRACE)
		return hj_rt_setup(ctx, hj_transport_by_id(v == V_NATIVE ? HJ_T_NONE : (int)v - 1));
	if (v <= V_NS_EXTENDED)
		return hj_ns_setup(ctx, (int)(v - V_NS_LINUX));
	if (v <= V_QOS_TOKENS)
		return hj_qos_setup(ctx, (int)(v - V_QOS_SAME));
	return hj_timer_setup(ctx);
}

static int hijack_measure(struct mech_ctx *ctx, struct samples *s)
{
	unsigned v = ctx->variant;

	if (v <= V_PTRACE)
		return hj_rt_measure(ctx, s);
	if (v <= V_NS_EXTENDED)
		return hj_ns_measure(ctx, s);
	if (v <= V_QOS_TOKENS)
		return hj_qos_measure(ctx, s);
	return hj_timer_measure(ctx, s);
}

static void hijack_teardown(struct mech_ctx *ctx)
{
	unsigned v = ctx->variant;

	if (v <= V_PTRACE)
		hj_rt_teardown(ctx);
	else if (v <= V_NS_EXTENDED)
		hj_ns_teardown(ctx);
	else if (v <= V_QOS_TOKENS)
		hj_qos_teardown(ctx);
	else
		hj_timer_teardown(ctx);
}

static const struct mechanism_ops hijack_ops = {
	.name = "hijack",
	.abi_version = MECHANISM_ABI_VERSION,
	.help = "syscall interposition: upcalls to a user-level executive (Hijack, seed 000)",
	.variants = hijack_variants,
	.opts = hijack_opts,
	.cfg_size = sizeof(struct hijack_cfg),
	.unit = SAMPLE_CYCLES,
	.probe = hijack_probe,
	.setup = hijack_setup,
	.measure = hijack_measure,
	.teardown = hijack_teardown,
};
MECHANISM_REGISTER(hijack_ops)
