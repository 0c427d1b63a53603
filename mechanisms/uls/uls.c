/*
 * uls: upcalls into a sandboxed extension, protection toggles, IPC against
 * a working set, and the CPU service manager (seed 001, ULS and SafeX).
 * The variant and option tables; the work is in the families (uls.h).
 *
 * Every sample is a span between two TSC probes (lfence;rdtsc ...
 * rdtscp;lfence), so the probe overhead is subtracted like for `signal`.
 */
#include "uls.h"

#include "placement.h"
#include "sandbox.h"

static const struct variant_desc uls_variants[] = {
	[V_UPCALL] = { "upcall", "raw upcall: tgkill() to the extension's first instruction, "
				 "on its stack in the sandbox (paper 2500 cycles)" },
	[V_UPCALL_MPROTECT] = { "upcall-mprotect", "upcall, the extension opens the sandbox with mprotect, "
						   "re-touches its working set, closes it (paper 11000)" },
	[V_UPCALL_PKEY] = { "upcall-pkey", "as upcall-mprotect with a protection key: WRPKRU per toggle, "
					   "no TLB flush" },
	[V_TLB_MPROTECT] = { "tlb-mprotect", "no upcall: mprotect open, touch working_set_pages, mprotect close "
					     "(paper's TLB flush and reload, 8500)" },
	[V_TLB_PKEY] = { "tlb-pkey", "no upcall: WRPKRU open, touch working_set_pages, WRPKRU close" },
	[V_IPC_THREAD] = { "ipc-thread", "4-byte pipe round trip between two threads; the peer touches "
					 "working_set_pages pages per message" },
	[V_IPC_PROCESS] = { "ipc-process", "as ipc-thread between two processes (separate address spaces)" },
	[V_SM_USER] = { "sm-user", "CPU service manager as a real-time process: every tick reads "
				   "/proc/PID/stat of 3 apps, PID control, SIGSTOP/SIGCONT; sample = the tick's "
				   "cost (paper: monitors and handlers 190 us)" },
	[V_SM_EXTENSION] = { "sm-extension", "the same manager as an extension upcalled by a timer signal "
					     "onto the sandbox stack, reading CPU clocks; sample = the tick's "
					     "cost (paper, SafeX in kernel: 20 us)" },
	[V_SM_SIGNAL] = { "sm-signal", "one kill() of SIGSTOP or SIGCONT to an app (paper signal dispatch 1.5 us)" },
	[V_SM_CTXSW] = { "sm-ctxsw", "manager blocks to the app's next instruction on the same CPU "
				     "(paper SM-to-app context switch 2.99 us)" },
	[V_SM_PROC_STAT] = { "sm-proc-stat", "open, read, parse and close /proc/PID/stat of an app "
					     "(paper 53.87 us)" },
	[V_SM_CPUCLOCK] = { "sm-cpuclock", "clock_gettime() of an app's CPU clock (the extension's monitor)" },
	{ NULL, NULL },
};

static const char *const ipc_placements[] = { "split", "same", NULL };

static const struct opt_desc uls_opts[] = {
	OPT_INT_FIELD(struct uls_cfg, working_set_pages, "16", 0, 65536, "pages",
		      "upcall-*, tlb-*: sandbox pages the extension re-touches after opening; "
		      "ipc-*: pages the peer touches per message"),
	OPT_ENUM_FIELD(struct uls_cfg, ipc_placement, "same", ipc_placements,
		       "ipc-*: both sides on cpu, a context switch per message as on the paper's "
		       "uniprocessor (same), or the peer on peer_cpu (split)"),
	OPT_INT_FIELD(struct uls_cfg, share1_pct, "30", 1, 90, "%", "sm-*: target CPU share of app 1"),
	OPT_INT_FIELD(struct uls_cfg, share2_pct, "20", 1, 90, "%", "sm-*: target CPU share of app 2"),
	OPT_INT_FIELD(struct uls_cfg, share3_pct, "10", 1, 90, "%", "sm-*: target CPU share of app 3"),
	OPT_INT_FIELD(struct uls_cfg, tick_us, "10000", 1000, 1000000, "us",
		      "sm-user, sm-extension: monitoring and control period (paper 10 ms)"),
	OPT_INT_FIELD(struct uls_cfg, manager_priority, "96", 2, 98, "",
		      "sm-*: SCHED_FIFO priority of the manager (paper 96); apps get 80 x share"),
	OPT_INT_FIELD(struct uls_cfg, kp_milli, "200", 0, 100000, "1/1000", "sm-*: PID proportional gain"),
	OPT_INT_FIELD(struct uls_cfg, ki_milli, "1000", 0, 100000, "1/1000 per s", "sm-*: PID integral gain"),
	OPT_INT_FIELD(struct uls_cfg, kd_milli, "0", 0, 100000, "1/1000 s", "sm-*: PID derivative gain"),
	OPT_INT_FIELD(struct uls_cfg, window_ms, "1000", 100, 60000, "ms",
		      "sm-user, sm-extension: interval of utilization.csv rows (paper 1 s)"),
	OPT_TABLE_END,
};

static const struct uls_family *family_of(unsigned variant)
{
	if (variant <= V_TLB_PKEY)
		return &uls_upcall_family;
	if (variant <= V_IPC_PROCESS)
		return &uls_ipc_family;
	if (variant <= V_SM_EXTENSION)
		return &uls_sm_family;
	return &uls_sm_cost_family;
}

static int uls_probe(struct mech_ctx *ctx)
{
	const struct uls_cfg *cfg = ctx->cfg;
	char why[200];

	if ((ctx->variant == V_UPCALL_PKEY || ctx->variant == V_TLB_PKEY) &&
	    sandbox_pkeys_available(why, sizeof(why)) != 0)
		return mech_why(ctx, BENCH_SKIP, "%s", why);
	if ((ctx->variant == V_IPC_THREAD || ctx->variant == V_IPC_PROCESS) &&
	    cfg->ipc_placement == PLACE_SPLIT && (ctx->peer_cpu < 0 || ctx->peer_cpu == ctx->cpu))
		return mech_why(ctx, BENCH_SKIP, "ipc_placement \"split\" needs a peer CPU other than %d", ctx->cpu);
	if (ctx->variant >= V_SM_USER) {
		if (ctx->cpu < 0)
			return mech_why(ctx, BENCH_SKIP, "the service manager needs a pinned CPU for its real-time apps");
		int64_t sum = cfg->share1_pct + cfg->share2_pct + cfg->share3_pct;
		if (sum > 90)
			return mech_why(ctx, BENCH_FAIL, "target shares add up to %lld%%; at most 90%% leaves room "
				       "for the manager and the rest of the system", (long long)sum);
	}
	return BENCH_OK;
}

static int uls_setup(struct mech_ctx *ctx)
{
	return family_of(ctx->variant)->setup(ctx);
}

static int uls_measure(struct mech_ctx *ctx, struct samples *s)
{
	return family_of(ctx->variant)->measure(ctx, s);
}

static void uls_teardown(struct mech_ctx *ctx)
{
	family_of(ctx->variant)->teardown(ctx);
}

static const struct mechanism_ops uls_ops = {
	.name = "uls",
	.abi_version = MECHANISM_ABI_VERSION,
	.flags = MECH_SUBTRACT_PROBE_OVERHEAD,
	.help = "user-level sandboxing (ULS) and SafeX: upcalls, protection toggles, IPC vs working set, "
		"CPU service manager (seed 001)",
	.variants = uls_variants,
	.opts = uls_opts,
	.cfg_size = sizeof(struct uls_cfg),
	.unit = SAMPLE_CYCLES,
	.probe = uls_probe,
	.setup = uls_setup,
	.measure = uls_measure,
	.teardown = uls_teardown,
};
MECHANISM_REGISTER(uls_ops)
