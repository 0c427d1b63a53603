/*
 * uls: upcalls into a sandboxed extension, protection toggles, IPC against
 * a working set, and the CPU service manager (seed 001, ULS and SafeX).
 * The variant and option tables; each row names its experiment's ops (uls.h).
 *
 * Every sample but sm-ctxsw's is one span between two TSC probes
 * (tsc_start() ... tsc_end()), so those variants have the probe overhead
 * subtracted like `signal`; sm-ctxsw ends at a stamp the app takes itself.
 */
#include "uls.h"

#include "csm_apps.h"
#include "uls_kmod.h"

#define SPAN MECH_SUBTRACT_PROBE_OVERHEAD

static const char *const ipc_placements[] = { "split", "same", NULL };

/* upcall: the sandbox exists (and is checked) but the raw upcall does not touch it. */
static const struct opt_desc upcall_opts[] = {
	OPT_INT_FIELD(struct uls_cfg, working_set_pages, "16", 0, 65536, "pages",
		      "protected sandbox pages behind the extension (the raw upcall does not touch them)"),
	OPT_TABLE_END,
};

/* upcall-mprotect, upcall-pkey, tlb-*: the pages re-touched after each open. */
static const struct opt_desc toggle_opts[] = {
	OPT_INT_FIELD(struct uls_cfg, working_set_pages, "16", 0, 65536, "pages",
		      "sandbox pages re-touched after each open (after an mprotect close, their TLB entries are reloaded)"),
	OPT_TABLE_END,
};

static const struct opt_desc ipc_opts[] = {
	OPT_INT_FIELD(struct uls_cfg, working_set_pages, "16", 0, 65536, "pages",
		      "pages of its own memory the peer touches (one line each) per message"),
	OPT_ENUM_FIELD(struct uls_cfg, ipc_placement, "same", ipc_placements,
		       "both sides on cpu, a context switch per message as on the paper's "
		       "uniprocessor (same), or the peer on peer_cpu (split)"),
	OPT_TABLE_END,
};

/* sm-user, sm-extension: three apps under a PID controller. */
static const struct opt_desc manager_opts[] = {
	OPT_INT_FIELD(struct uls_cfg, share1_pct, "30", 1, 90, "%", "target CPU share of app 1 (priority 80 x share)"),
	OPT_INT_FIELD(struct uls_cfg, share2_pct, "20", 1, 90, "%", "target CPU share of app 2 (priority 80 x share)"),
	OPT_INT_FIELD(struct uls_cfg, share3_pct, "10", 1, 90, "%", "target CPU share of app 3 (priority 80 x share)"),
	OPT_INT_FIELD(struct uls_cfg, tick_us, "10000", 1000, 1000000, "us",
		      "monitoring and control period (paper 10 ms)"),
	OPT_INT_FIELD(struct uls_cfg, manager_priority, "96", 2, 98, "",
		      "SCHED_FIFO priority of the manager (paper 96); apps get 80 x share"),
	OPT_INT_FIELD(struct uls_cfg, kp_milli, "200", 0, 100000, "1/1000", "PID proportional gain"),
	OPT_INT_FIELD(struct uls_cfg, ki_milli, "1000", 0, 100000, "1/1000 per s", "PID integral gain"),
	OPT_INT_FIELD(struct uls_cfg, kd_milli, "0", 0, 100000, "1/1000 s", "PID derivative gain"),
	OPT_INT_FIELD(struct uls_cfg, window_ms, "1000", 100, 60000, "ms",
		      "interval of utilization.csv rows (paper 1 s)"),
	OPT_TABLE_END,
};

/* sm-signal, sm-ctxsw, sm-proc-stat, sm-cpuclock: one app, no controller. */
static const struct opt_desc cost_opts[] = {
	OPT_INT_FIELD(struct uls_cfg, share1_pct, "30", 1, 90, "%",
		      "the one app's SCHED_FIFO priority is 80 x this share (as app 1 of sm-user)"),
	OPT_INT_FIELD(struct uls_cfg, manager_priority, "96", 2, 98, "",
		      "SCHED_FIFO priority of the manager (the case process), above the app (paper 96)"),
	OPT_TABLE_END,
};

static const struct variant_desc uls_variants[] = {
	{ .name = "upcall", .help = "raw upcall: tgkill() to the extension's first instruction, "
				    "on its stack in the sandbox (paper 2500 cycles)",
	  .flags = SPAN, .opts = upcall_opts,
	  .setup = uls_upcall_setup, .measure = uls_upcall_measure, .teardown = uls_upcall_teardown },
	{ .name = "upcall-kmod", .help = "upcall by module gapbench_upcall: the kernel returns into the extension "
					 "on the sandbox stack, no signal frame (the paper's path, 2500 cycles)",
	  .flags = SPAN | MECH_NEEDS_KMOD, .kmod = "gapbench_upcall",
	  .setup = uls_kmod_setup, .measure = uls_kmod_measure, .teardown = uls_kmod_teardown },
	{ .name = "upcall-mprotect", .help = "upcall, the extension opens the sandbox with mprotect, "
					     "re-touches its working set, closes it (paper 11000)",
	  .flags = SPAN, .opts = toggle_opts,
	  .setup = uls_upcall_mprotect_setup, .measure = uls_upcall_measure, .teardown = uls_upcall_teardown },
	{ .name = "upcall-pkey", .help = "as upcall-mprotect with a protection key: WRPKRU per toggle, "
					 "no TLB flush",
	  .flags = SPAN, .opts = toggle_opts, .probe = uls_pkey_probe,
	  .setup = uls_upcall_pkey_setup, .measure = uls_upcall_measure, .teardown = uls_upcall_teardown },
	{ .name = "tlb-mprotect", .help = "no upcall: mprotect open, touch working_set_pages, mprotect close "
					  "(paper's TLB flush and reload, 8500)",
	  .flags = SPAN, .opts = toggle_opts,
	  .setup = uls_tlb_mprotect_setup, .measure = uls_tlb_measure, .teardown = uls_upcall_teardown },
	{ .name = "tlb-pkey", .help = "no upcall: WRPKRU open, touch working_set_pages, WRPKRU close",
	  .flags = SPAN, .opts = toggle_opts, .probe = uls_pkey_probe,
	  .setup = uls_tlb_pkey_setup, .measure = uls_tlb_measure, .teardown = uls_upcall_teardown },
	{ .name = "ipc-thread", .help = "4-byte pipe round trip between two threads; the peer touches "
					"working_set_pages pages per message",
	  .flags = SPAN, .opts = ipc_opts, .probe = uls_ipc_probe,
	  .setup = uls_ipc_thread_setup, .measure = uls_ipc_measure, .teardown = uls_ipc_teardown },
	{ .name = "ipc-process", .help = "as ipc-thread between two processes (separate address spaces)",
	  .flags = SPAN, .opts = ipc_opts, .probe = uls_ipc_probe,
	  .setup = uls_ipc_process_setup, .measure = uls_ipc_measure, .teardown = uls_ipc_teardown },
	{ .name = "sm-user", .help = "CPU service manager as a real-time process: every tick reads "
				     "/proc/PID/stat of 3 apps, PID control, SIGSTOP/SIGCONT; sample = the tick's "
				     "cost (paper: monitors and handlers 190 us)",
	  .flags = SPAN, .opts = manager_opts, .probe = uls_sm_probe,
	  .setup = uls_sm_user_setup, .measure = uls_sm_user_measure, .teardown = uls_sm_teardown },
	{ .name = "sm-extension", .help = "the same manager as an extension upcalled by a timer signal "
					  "onto the sandbox stack, reading CPU clocks; sample = the tick's "
					  "cost (paper, SafeX in kernel: 20 us)",
	  .flags = SPAN, .opts = manager_opts, .probe = uls_sm_probe,
	  .setup = uls_sm_extension_setup, .measure = uls_sm_extension_measure, .teardown = uls_sm_teardown },
	{ .name = "sm-signal", .help = "one kill() of SIGSTOP or SIGCONT to an app (paper signal dispatch 1.5 us)",
	  .flags = SPAN, .opts = cost_opts, .probe = csm_apps_probe,
	  .setup = uls_sm_cost_setup, .measure = uls_sm_signal_measure, .teardown = uls_sm_cost_teardown },
	{ .name = "sm-ctxsw", .help = "manager blocks to the app's next instruction on the same CPU "
				      "(paper SM-to-app context switch 2.99 us)",
	  .opts = cost_opts, .probe = csm_apps_probe,
	  .setup = uls_sm_cost_setup, .measure = uls_sm_ctxsw_measure, .teardown = uls_sm_cost_teardown },
	{ .name = "sm-proc-stat", .help = "open, read, parse and close /proc/PID/stat of an app "
					  "(paper 53.87 us)",
	  .flags = SPAN, .opts = cost_opts, .probe = csm_apps_probe,
	  .setup = uls_sm_cost_setup, .measure = uls_sm_proc_stat_measure, .teardown = uls_sm_cost_teardown },
	{ .name = "sm-cpuclock", .help = "clock_gettime() of an app's CPU clock (the extension's monitor)",
	  .flags = SPAN, .opts = cost_opts, .probe = csm_apps_probe,
	  .setup = uls_sm_cost_setup, .measure = uls_sm_cpuclock_measure, .teardown = uls_sm_cost_teardown },
	{ NULL, NULL },
};

static const struct mechanism_ops uls_ops = {
	.name = "uls",
	.abi_version = MECHANISM_ABI_VERSION,
	.help = "user-level sandboxing (ULS) and SafeX: upcalls, protection toggles, IPC vs working set, "
		"CPU service manager (seed 001)",
	.variants = uls_variants,
	.cfg_size = sizeof(struct uls_cfg),
	.unit = SAMPLE_CYCLES,
};
MECHANISM_REGISTER(uls_ops)
