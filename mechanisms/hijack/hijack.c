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
 * Each variant row names its own ops and option table. Units and probe
 * overhead, per experiment:
 *   round trip  TSC cycles; every sample is one tsc_start()..tsc_end() span
 *               (roundtrip.c), so the probe overhead is subtracted
 *   nanosleep   TSC cycles: the span minus the requested sleep (a wake-up
 *               error, not a probed span: nothing subtracted)
 *   qos         TSC cycles from the sender's stamp to the receiver's (two
 *               CPUs: nothing subtracted)
 *   timer       ns: CLOCK_MONOTONIC from the expiry to the handler's read
 */
#include "hijack.h"

#include <stdio.h>

#include "tokens.h"

#include "exec_basic.h"
#include "hijack_kmod.h"

const char *const hj_syscall_names[] = { "getppid", "getpid", "write", NULL };
static const char *const action_names[] = { "pass", "emulate", NULL };
static const char *const ws_kind_names[] = { "data", "instruction", NULL };
static const char *const placement_choices[] = { "same", "split", NULL };
static const char *const fault_names[] = { "none", "guest-dies", "executive-hangs", NULL };
static const char *const transport_names[] = { "sud", "seccomp-trap", "seccomp-notify", "ptrace", NULL };
static const char *const timer_wait_names[] = { "spin", "sleep", NULL };
static const char *const token_policy_names[] = { "adaptive", "static", NULL };   /* enum hj_tokens_policy */

#define C struct hijack_cfg

/* Experiments 1 and 2: the round trip (every round-trip variant). */
static const struct opt_desc rt_opts[] = {
	OPT_ENUM_FIELD(C, syscall, "getppid", hj_syscall_names,
		       "the interposed call (write: 1 byte to a memfd, checked afterwards)"),
	OPT_ENUM_FIELD(C, action, "pass", action_names, "the executive passes the call or emulates it"),
	OPT_INT_FIELD(C, emulate_value, "4242", 0, 1 << 30, "", "what an emulated getpid/getppid returns"),
	OPT_INT_FIELD(C, working_set_pages, "0", 0, 16384, "pages",
		      "pages the guest touches after each call (inside the timed span)"),
	OPT_ENUM_FIELD(C, ws_kind, "data", ws_kind_names,
		       "working set of data pages (one load each) or instruction pages (a jump chain)"),
	OPT_ENUM_FIELD(C, placement, "same", placement_choices,
		       "seccomp-notify, ptrace: executive process on the guest's CPU (same, the paper's "
		       "uniprocessor) or on peer_cpu (split)"),
	OPT_ENUM_FIELD(C, fault, "none", fault_names, "for tests: the guest kills itself, or the executive stops answering"),
	OPT_INT_FIELD(C, fault_after, "100", 0, 1 << 30, "calls", "calls before the fault"),
	OPT_TABLE_END,
};

/* Experiment 3: nanosleep. */
#define NS_SLEEP_US OPT_INT_FIELD(C, sleep_us, "1000", 1, 1000000, "us", "the requested sleep")
#define NS_INTERPOSED \
	OPT_ENUM_FIELD(C, transport, "sud", transport_names, "the transport that interposes the nanosleep"), \
	OPT_INT_FIELD(C, boost_priority, "50", 1, 99, "", "SCHED_FIFO priority the executive gives the sleeper"), \
	OPT_ENUM_FIELD(C, placement, "same", placement_choices, \
		       "transport seccomp-notify, ptrace: executive process on the guest's CPU (same) or on peer_cpu (split)")

static const struct opt_desc ns_linux_opts[] = {
	NS_SLEEP_US,
	OPT_TABLE_END,
};

static const struct opt_desc ns_hijack_opts[] = {
	NS_SLEEP_US,
	NS_INTERPOSED,
	OPT_TABLE_END,
};

static const struct opt_desc ns_extended_opts[] = {
	NS_SLEEP_US,
	NS_INTERPOSED,
	OPT_INT_FIELD(C, busy_wait_threshold_us, "10000", 0, 1000000, "us",
		      "requests shorter than this are busy-waited (paper: one 10 ms tick)"),
	OPT_TABLE_END,
};

/* Experiment 4: qos. */
#define QOS_COMMON \
	OPT_INT_FIELD(C, port, "47000", 1024, 65000, "", "UDP port of stream 0 (stream i: port + i)"), \
	OPT_INT_FIELD(C, task_start_ms, "1000", 10, 60000, "ms", "interval between task starts (paper: 5 s)"), \
	OPT_INT_FIELD(C, hold_ms, "1000", 0, 60000, "ms", "run time after the last task started"), \
	OPT_INT_FIELD(C, interval_ms, "100", 1, 10000, "ms", "CSV interval for packets and jitter"), \
	OPT_INT_FIELD(C, work_us, "20", 0, 100000, "us", "CPU work per received packet")

static const struct opt_desc qos_opts[] = {
	QOS_COMMON,
	OPT_TABLE_END,
};

/* The qos option's form, checked when the suite is loaded: three percentages that fit in one CPU. */
static int qos_check(const char *value, char *why, size_t why_len)
{
	int64_t pct[QOS_TASKS - 1];
	if (hj_tokens_parse_pct(value, pct, QOS_TASKS - 1) != 0) {
		snprintf(why, why_len, "'%s': want three percentages like \"40,30,20\"", value);
		return -1;
	}
	if (pct[0] + pct[1] + pct[2] > 100) {
		snprintf(why, why_len, "'%s': the three shares add up to more than 100%%", value);
		return -1;
	}
	return 0;
}

static const struct opt_desc qos_tokens_opts[] = {
	QOS_COMMON,
	OPT_INT_FIELD(C, rate, "42000", 1, 1000000, "packets/s", "the sender's rate per stream (token sizing)"),
	OPT_INT_FIELD(C, token_period_ms, "10", 1, 10000, "ms", "token refresh period"),
	OPT_STR_CHECKED_FIELD(C, qos, "40,30,20", qos_check,
			      "percent of the receiving CPU's packets for tasks 0,1,2 per period; task 3 best effort "
			      "(gapbench's choice: the paper gives no numbers)"),
	OPT_ENUM_FIELD(C, token_policy, "adaptive", token_policy_names,
		       "adaptive: tokens = qos percent of the packets granted the period before (scaled until the "
		       "best-effort task gets the rest), the task with most tokens left first; static: the appendix "
		       "literally, qos percent of rate x token_period_ms, first fit (strict priority here; tokens.h)"),
	OPT_INT_FIELD(C, task_priority, "10", 0, 98, "",
		      "SCHED_FIFO priority of the four tasks, all equal and below the executive's, so that the "
		      "executive decides which runs and other work on the machine does not (0: SCHED_OTHER)"),
	OPT_INT_FIELD(C, share_tolerance_pct, "10", 1, 100, "%",
		      "the report's verdict: every task's share (all four running) within this much of its target, relative"),
	OPT_ENUM_FIELD(C, placement, "same", placement_choices,
		       "token executive process on the tasks' CPU (same) or on peer_cpu (split)"),
	OPT_TABLE_END,
};

/* Experiment 5: timer. */
static const struct opt_desc timer_opts[] = {
	OPT_INT_FIELD(C, period_us, "1000", 20, 1000000, "us", "timer period"),
	OPT_ENUM_FIELD(C, timer_wait, "sleep", timer_wait_names,
		       "the guest spins (handler interrupts it) or sleeps in sigsuspend"),
	OPT_TABLE_END,
};

#undef NS_SLEEP_US
#undef NS_INTERPOSED
#undef QOS_COMMON
#undef C

#define RT(name_, help_, setup_) \
	{ .name = name_, .help = help_, .flags = MECH_SUBTRACT_PROBE_OVERHEAD, .opts = rt_opts, \
	  .setup = setup_, .measure = hj_rt_measure, .teardown = hj_rt_teardown }
#define NS(name_, help_, opts_, setup_) \
	{ .name = name_, .help = help_, .opts = opts_, .setup = setup_, .measure = hj_ns_measure, \
	  .teardown = hj_ns_teardown }
#define QOS(name_, help_, opts_, setup_) \
	{ .name = name_, .help = help_, .opts = opts_, .probe = hj_qos_probe, .setup = setup_, \
	  .measure = hj_qos_measure, .teardown = hj_qos_teardown }

static const struct variant_desc hijack_variants[] = {
	RT("native", "the guest loop without interposition: the baseline at the same working set",
	   hj_rt_setup_native),
	RT("sud", "syscall user dispatch: SIGSYS handler in the guest (no address-space switch)", hj_rt_setup_sud),
	RT("seccomp-trap", "seccomp SECCOMP_RET_TRAP: SIGSYS handler in the guest", hj_rt_setup_trap),
	RT("seccomp-notify", "seccomp user notification: executive process (address-space switch)",
	   hj_rt_setup_notify),
	RT("ptrace", "executive is a tracer: PTRACE_SYSEMU to emulate, PTRACE_SYSCALL to pass", hj_rt_setup_ptrace),
	{ .name = "kmod", .help = "module gapbench_hijack: the kernel holds the call for an executive process "
				  "blocked in read() on /dev/gapbench_hijack (the paper's shape)",
	  .flags = MECH_SUBTRACT_PROBE_OVERHEAD | MECH_NEEDS_KMOD, .kmod = "gapbench_hijack", .opts = rt_opts,
	  .setup = hj_rt_setup_kmod, .measure = hj_rt_measure, .teardown = hj_rt_teardown },
	NS("nanosleep-linux", "nanosleep wake-up error, plain Linux (not interposed)", ns_linux_opts,
	   hj_ns_setup_linux),
	NS("nanosleep-hijack", "nanosleep interposed: the executive raises the sleeper to SCHED_FIFO", ns_hijack_opts,
	   hj_ns_setup_hijack),
	NS("nanosleep-extended", "as nanosleep-hijack, but the executive busy-waits requests below busy_wait_threshold_us",
	   ns_extended_opts, hj_ns_setup_extended),
	QOS("qos-same", "four UDP receivers, Linux, same priority (load packet-stream)", qos_opts, hj_qos_setup_same),
	QOS("qos-increasing", "four UDP receivers, Linux, increasing SCHED_FIFO priorities", qos_opts,
	    hj_qos_setup_increasing),
	QOS("qos-tokens", "four UDP receivers under the paper's token-based executive (seccomp-notify)",
	    qos_tokens_opts, hj_qos_setup_tokens),
	{ .name = "timer", .help = "timer expiry (POSIX timer, signal) to the executive's handler",
	  .unit = SAMPLE_NS, .opts = timer_opts, .setup = hj_timer_setup, .measure = hj_timer_measure,
	  .teardown = hj_timer_teardown },
	{ NULL, NULL },
};

#undef RT
#undef NS
#undef QOS

/* The `transport` option's value, in the order of transport_names. */
const struct hj_transport *hj_transport_by_id(int id)
{
	static const struct hj_transport *const by_id[] = {
		[HJ_T_SUD] = &hj_transport_sud,
		[HJ_T_SECCOMP_TRAP] = &hj_transport_seccomp_trap,
		[HJ_T_SECCOMP_NOTIFY] = &hj_transport_seccomp_notify,
		[HJ_T_PTRACE] = &hj_transport_ptrace,
	};
	return id >= 0 && (size_t)id < sizeof(by_id) / sizeof(by_id[0]) ? by_id[id] : NULL;
}

static const struct mechanism_ops hijack_ops = {
	.name = "hijack",
	.abi_version = MECHANISM_ABI_VERSION,
	.help = "syscall interposition: upcalls to a user-level executive (Hijack, seed 000)",
	.variants = hijack_variants,
	.cfg_size = sizeof(struct hijack_cfg),
	.priv_size = sizeof(struct hijack_priv),
	.unit = SAMPLE_CYCLES,
};
MECHANISM_REGISTER(hijack_ops)
