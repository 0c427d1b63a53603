/*
 * Mechanism vlib: vLibOS (Ye et al.) on KVM. Variants map to the paper's
 * Table 2 and section 5 experiments; each lives in its own exp_*.c and each
 * row below names its own setup and measure. Every experiment shares the
 * probe (/dev/kvm) and the teardown (stop the vLib OS, destroy a bare guest).
 */
#include <string.h>
#include <unistd.h>

#include "vlib_exp.h"

static const char *const op_names[] = { "nop", "transform", NULL };
static const char *const wait_names[] = { "poll", "block", NULL };
static const char *const fault_names[] = { "ud", "pf", "de", "triple", "hang", NULL };

/* Every experiment that boots a guest takes its RAM; those that start the vLib server, its wait. */
#define OPT_RAM_MB OPT_INT_FIELD(struct vlib_cfg, ram_mb, "32", 16, 1024, "MiB", "guest RAM")
#define OPT_WAIT OPT_ENUM_FIELD(struct vlib_cfg, wait, "poll", wait_names, \
				"how the vCPU thread waits while the guest is blocked in vLib_listen")
#define OPT_MEMBUS_RT \
	OPT_INT_FIELD(struct vlib_cfg, u_pct, "10", 1, 90, "%", "utilization C/T of both m_jumps (paper 10, 30, 60)"), \
	OPT_INT_FIELD(struct vlib_cfg, period_ms, "100", 5, 1000, "ms", "period T of the real-time m_jump (paper 100)"), \
	OPT_INT_FIELD(struct vlib_cfg, mjump_kb, "6144", 64, 65536, "KiB", "m_jump array size (paper 6 MB)")

/* vm-exit, vm-entry: a bare stamping guest, no vLib server. */
static const struct opt_desc guest_opts[] = { OPT_RAM_MB, OPT_TABLE_END };

/* deschedule, channel-map: the vLib server with the experiment's fixed requests. */
static const struct opt_desc server_opts[] = { OPT_WAIT, OPT_RAM_MB, OPT_TABLE_END };

static const struct opt_desc call_opts[] = {
	OPT_INT_FIELD(struct vlib_cfg, channel_bytes, "4096", 64, 1 << 20, "bytes",
		      "channel data size (the payload the guest transforms)"),
	OPT_INT_FIELD(struct vlib_cfg, timeout_us, "0", 0, 10000000, "us", "vLib_call timeout (0 = none)"),
	OPT_ENUM_FIELD(struct vlib_cfg, op, "transform", op_names,
		       "nop (the paper's empty call) or transform (guest XORs every payload byte)"),
	OPT_BOOL_FIELD(struct vlib_cfg, verify, "true", "check every result byte after each call (untimed)"),
	OPT_WAIT,
	OPT_RAM_MB,
	OPT_TABLE_END,
};

static const struct opt_desc timeout_opts[] = {
	OPT_INT_FIELD(struct vlib_cfg, timeout_us, "1000", 1, 10000000, "us",
		      "the timeout tested: each call to the never-answering server must return no earlier"),
	OPT_WAIT,
	OPT_RAM_MB,
	OPT_TABLE_END,
};

static const struct opt_desc fifo_opts[] = {
	OPT_INT_FIELD(struct vlib_cfg, clients, "4", 2, 16, "threads", "client threads (the measuring thread is one)"),
	OPT_WAIT,
	OPT_RAM_MB,
	OPT_TABLE_END,
};

/* lidar-*: where the task runs, its period, the co-runner's array and budget. */
static const char *const lidar_in_names[] = { "host", "guest", NULL };
#define OPT_LIDAR \
	OPT_ENUM_FIELD(struct vlib_cfg, lidar_in, "host", lidar_in_names, \
		       "where the lidar task runs: a host thread, or a KVM guest timing itself"), \
	OPT_INT_FIELD(struct vlib_cfg, period_ms, "100", 1, 1000, "ms", "period of the lidar data (paper 100)"), \
	OPT_RAM_MB
static const struct opt_desc lidar_alone_opts[] = { OPT_LIDAR, OPT_TABLE_END };
static const struct opt_desc lidar_corunner_opts[] = {
	OPT_LIDAR,
	OPT_INT_FIELD(struct vlib_cfg, corunner_kb, "0", 0, 1048576, "KiB",
		      "the co-runner's streamed buffer (0 = twice the last-level cache)"),
	OPT_TABLE_END,
};
static const struct opt_desc lidar_guest_corunner_opts[] = {
	OPT_LIDAR,
	OPT_INT_FIELD(struct vlib_cfg, corunner_kb, "0", 0, 1048576, "KiB",
		      "the co-runner's streamed buffer (0 = twice the last-level cache)"),
	OPT_WAIT,
	OPT_TABLE_END,
};
static const struct opt_desc lidar_throttled_opts[] = {
	OPT_LIDAR,
	OPT_INT_FIELD(struct vlib_cfg, corunner_kb, "0", 0, 1048576, "KiB",
		      "the co-runner's streamed buffer (0 = twice the last-level cache)"),
	OPT_INT_FIELD(struct vlib_cfg, corunner_budget_pct, "30", 1, 100, "%",
		      "the co-runner's foreground budget C/T (paper: the client's VCPU C=12, T=40)"),
	OPT_INT_FIELD(struct vlib_cfg, corunner_period_ms, "40", 5, 1000, "ms", "period T of that budget (paper 40)"),
	OPT_INT_FIELD(struct vlib_cfg, throttle_slack_pct, "10", 0, 1000, "%",
		      "background only while the task's last period took at most this much over its alone p50"),
	OPT_WAIT,
	OPT_TABLE_END,
};

static const struct opt_desc fault_opts[] = {
	OPT_ENUM_FIELD(struct vlib_cfg, fault, "ud", fault_names, "what the guest does"),
	OPT_RAM_MB,
	OPT_TABLE_END,
};

#define OPT_CORUNNER_KB OPT_INT_FIELD(struct vlib_cfg, corunner_kb, "0", 0, 1048576, "KiB", \
				       "the co-runner's m_jump array (0 = twice the last-level cache; the paper's 6144 filled its L3)")
#define OPT_THROTTLE \
	OPT_INT_FIELD(struct vlib_cfg, guest_period_ms, "90", 5, 1000, "ms", "period of the co-runner's budget (paper 90)"), \
	OPT_INT_FIELD(struct vlib_cfg, throttle_slack_pct, "10", 0, 1000, "%", \
		      "throttle the co-runner's background time when the RT task is this much slower than alone")

/* membus-alone boots no guest: the real-time m_jump alone. */
static const struct opt_desc membus_alone_opts[] = { OPT_MEMBUS_RT, OPT_TABLE_END };

/* membus-host, membus-host-throttled: the second m_jump is a host thread (the paper's quest, quest + mem). */
static const struct opt_desc membus_host_opts[] = { OPT_MEMBUS_RT, OPT_CORUNNER_KB, OPT_TABLE_END };
static const struct opt_desc membus_host_throttled_opts[] = { OPT_MEMBUS_RT, OPT_CORUNNER_KB, OPT_THROTTLE, OPT_TABLE_END };

static const struct opt_desc membus_guest_opts[] = { OPT_MEMBUS_RT, OPT_CORUNNER_KB, OPT_WAIT, OPT_RAM_MB, OPT_TABLE_END };

static const struct opt_desc membus_throttled_opts[] = {
	OPT_MEMBUS_RT,
	OPT_CORUNNER_KB,
	OPT_THROTTLE,
	OPT_WAIT,
	OPT_RAM_MB,
	OPT_TABLE_END,
};

uint64_t vlib_ram_for(const struct vlib_cfg *cfg, uint64_t array_bytes)
{
	uint64_t need = KVM_FREE_RAM_GPA + array_bytes + (2u << 20), have = (uint64_t)cfg->ram_mb << 20;
	need = (need + (2u << 20) - 1) & ~(uint64_t)((2u << 20) - 1);   /* whole 2 MiB pages */
	return need > have ? need : have;
}

int vlib_exp_start_server(struct mech_ctx *ctx, struct vlib_state *st, int vcpu_priority)
{
	const struct vlib_cfg *cfg = ctx->cfg;
	return vlib_exp_start_server_ram(ctx, st, vcpu_priority, (uint64_t)cfg->ram_mb << 20);
}

int vlib_exp_start_server_ram(struct mech_ctx *ctx, struct vlib_state *st, int vcpu_priority, uint64_t ram_bytes)
{
	const struct vlib_cfg *cfg = ctx->cfg;
	struct vlib_os_config oc = {
		.port = 0, .ram_bytes = ram_bytes, .program = VLIB_PROG_SERVER,
		.cpu = ctx->peer_cpu, .priority = vcpu_priority, .wait = (enum vlib_wait)cfg->wait,
		.tsc_khz = ctx->tsc->tsc_khz,
	};
	char why[256];
	st->os = vlib_os_start(&oc, why, sizeof(why));
	if (!st->os)
		return mech_why(ctx, BENCH_FAIL, "vLib OS: %s", why);
	vlib_exp_report_platform(ctx);
	return BENCH_OK;
}

void vlib_exp_report_platform(struct mech_ctx *ctx)
{
	report_kv(ctx->report, "nested", "%s", VLIB_NESTED_NOTE);
	if (access("/sys/module/kvm_pvm", F_OK) == 0)
		report_kv(ctx->report, "kvm_backend", "%s", VLIB_PVM_NOTE);
}

/* The vLib server's vCPU at the case's priority: the experiments that call it. */
static int setup_server(struct mech_ctx *ctx)
{
	return vlib_exp_start_server(ctx, ctx->priv, ctx->priority);
}

static int vlib_probe(struct mech_ctx *ctx);

/* lidar-guest-corunner, lidar-throttled: the co-runner in the vLib OS guest, SCHED_OTHER, its RAM holds the buffer. */
static int setup_lidar_server(struct mech_ctx *ctx)
{
	const struct vlib_cfg *cfg = ctx->cfg;
	struct vlib_cfg small = *cfg;
	small.ram_mb = 32;   /* ram_mb is the lidar guest's; the vLib OS gets what its co-runner needs */
	return vlib_exp_start_server_ram(ctx, ctx->priv, 0, vlib_ram_for(&small, vlib_corunner_bytes(cfg->corunner_kb)));
}

/* membus-alone, membus-host, membus-host-throttled: host threads only, no guest. */
static int host_only_probe(struct mech_ctx *ctx)
{
	(void)ctx;
	return BENCH_OK;
}

/* lidar-alone, lidar-corunner: a host task needs no KVM; a guest task does. */
static int lidar_probe(struct mech_ctx *ctx)
{
	const struct vlib_cfg *cfg = ctx->cfg;
	return cfg->lidar_in == 1 ? vlib_probe(ctx) : BENCH_OK;
}

static int gpu_measure(struct mech_ctx *ctx, struct samples *s)
{
	(void)s;
	return exp_gpu_probe(ctx);
}

/* membus-guest, membus-throttled: the guest's m_jump is background work, SCHED_OTHER; its RAM holds the array. */
static int setup_background_server(struct mech_ctx *ctx)
{
	const struct vlib_cfg *cfg = ctx->cfg;
	return vlib_exp_start_server_ram(ctx, ctx->priv, 0, vlib_ram_for(cfg, vlib_corunner_bytes(cfg->corunner_kb)));
}

/* Every variant that reaches this probe needs /dev/kvm (gpu-darknet has its own). */
static int vlib_probe(struct mech_ctx *ctx)
{
	if (access("/dev/kvm", R_OK | W_OK) != 0)
		return mech_why(ctx, BENCH_SKIP, "needs /dev/kvm");
	return BENCH_OK;
}

static void vlib_teardown(struct mech_ctx *ctx)
{
	struct vlib_state *st = ctx->priv;
	if (!st)
		return;
	if (st->os) {
		vlib_os_report(st->os, ctx->report);
		vlib_os_stop(st->os);
		st->os = NULL;
	}
	kvm_guest_destroy(&st->guest);
	vlib_exp_floor_destroy(st);
}

/* vm-exit, vm-entry, guest-fault and membus-alone have no setup: they boot their own guest (or none) in measure(). */
static const struct variant_desc vlib_variants[] = {
	{ .name = "vm-exit", .help = "exp 1: guest stamp before OUT -> host stamp after KVM_RUN returns (cycles)",
	  .flags = MECH_NEEDS_KVM, .opts = guest_opts, .measure = exp_vmexit_exit_measure },
	{ .name = "vm-entry", .help = "exp 1: host stamp before KVM_RUN -> guest stamp after the OUT (cycles)",
	  .flags = MECH_NEEDS_KVM, .opts = guest_opts, .measure = exp_vmexit_entry_measure },
	{ .name = "kvm-floor", .help = "the KVM floor: one KVM_RUN of a real-mode out+jmp guest, no irqchip (cycles)",
	  .flags = MECH_NEEDS_KVM | MECH_SUBTRACT_PROBE_OVERHEAD, .measure = exp_kvm_floor_measure },
	{ .name = "trip-cpl0-pio", .help = "exit ladder 1: the substrate's VM, CPL 0 OUT, one raw KVM_RUN",
	  .flags = MECH_NEEDS_KVM | MECH_SUBTRACT_PROBE_OVERHEAD, .opts = guest_opts, .measure = exp_trip_cpl0_pio_measure },
	{ .name = "trip-cpl0-mmio", .help = "exit ladder 2: ... the hypercall as an MMIO write at CPL 0",
	  .flags = MECH_NEEDS_KVM | MECH_SUBTRACT_PROBE_OVERHEAD, .opts = guest_opts, .measure = exp_trip_cpl0_mmio_measure },
	{ .name = "trip-cpl3-mmio", .help = "exit ladder 3: ... the MMIO write from CPL 3",
	  .flags = MECH_NEEDS_KVM | MECH_SUBTRACT_PROBE_OVERHEAD, .opts = guest_opts, .measure = exp_trip_cpl3_mmio_measure },
	{ .name = "trip-cpl3-stamped", .help = "exit ladder 4: ... with the guest's TSC stamps around it",
	  .flags = MECH_NEEDS_KVM | MECH_SUBTRACT_PROBE_OVERHEAD, .opts = guest_opts, .measure = exp_trip_cpl3_stamped_measure },
	{ .name = "trip-runloop", .help = "exit ladder 5: ... and kvm_run_loop decoding each exit (the whole path)",
	  .flags = MECH_NEEDS_KVM | MECH_SUBTRACT_PROBE_OVERHEAD, .opts = guest_opts, .measure = exp_trip_runloop_measure },
	{ .name = "call-sync", .help = "exp 2: vLib_call overhead T1 - T2 (client time minus server time)",
	  .flags = MECH_NEEDS_KVM, .opts = call_opts, .setup = setup_server, .measure = exp_call_sync_measure },
	{ .name = "call-async", .help = "exp 2: vLib_async_call issue -> callback, minus server time",
	  .flags = MECH_NEEDS_KVM, .opts = call_opts, .setup = setup_server, .measure = exp_call_async_measure },
	{ .name = "deschedule", .help = "exp 3: master's decision -> the vCPU thread out of guest mode",
	  .flags = MECH_NEEDS_KVM, .opts = server_opts, .setup = setup_server, .measure = exp_desched_measure },
	{ .name = "channel-map", .help = "exp 4: mapping a new one-page channel into the guest on first use",
	  .flags = MECH_NEEDS_KVM, .opts = server_opts, .setup = setup_server, .measure = exp_mapping_measure },
	{ .name = "membus-alone", .help = "exp 5: real-time m_jump with budget (C, T), alone (cycles per column)",
	  .probe = host_only_probe, .opts = membus_alone_opts, .measure = exp_membus_alone_measure },
	{ .name = "membus-host", .help = "exp 5 (quest): ... with a second m_jump in a host thread on the peer CPU, unchecked",
	  .flags = MECH_NEEDS_2CPUS, .probe = host_only_probe, .opts = membus_host_opts, .measure = exp_membus_host_measure },
	{ .name = "membus-host-throttled", .help = "exp 5 (quest + mem): ... with that host m_jump throttled by the master",
	  .flags = MECH_NEEDS_2CPUS, .probe = host_only_probe, .opts = membus_host_throttled_opts, .measure = exp_membus_host_throttled_measure },
	{ .name = "membus-guest", .help = "exp 5 (linux): ... with an unchecked m_jump in the vLib OS guest",
	  .flags = MECH_NEEDS_KVM, .opts = membus_guest_opts, .setup = setup_background_server, .measure = exp_membus_guest_measure },
	{ .name = "membus-throttled", .help = "exp 5 (linux + mem): ... with the guest's m_jump in a vLib call the master throttles",
	  .flags = MECH_NEEDS_KVM, .opts = membus_throttled_opts, .setup = setup_background_server, .measure = exp_membus_throttled_measure },
	{ .name = "lidar-alone", .help = "Figs 9/10: the lidar task alone, cycles per period (decode, scan, dump)",
	  .opts = lidar_alone_opts, .probe = lidar_probe, .measure = exp_lidar_alone_measure },
	{ .name = "lidar-corunner", .help = "Fig 10: ... with the Darknet stand-in as a host thread on the peer CPU",
	  .flags = MECH_NEEDS_2CPUS, .opts = lidar_corunner_opts, .probe = lidar_probe, .measure = exp_lidar_corunner_measure },
	{ .name = "lidar-guest-corunner", .help = "Fig 9 w/o mem: ... with the Darknet stand-in in the vLib OS guest, unchecked",
	  .flags = MECH_NEEDS_KVM, .opts = lidar_guest_corunner_opts, .setup = setup_lidar_server, .measure = exp_lidar_guest_corunner_measure },
	{ .name = "lidar-throttled", .help = "Fig 9 w/ mem: ... with it in a vLib call the master throttles",
	  .flags = MECH_NEEDS_KVM, .opts = lidar_throttled_opts, .setup = setup_lidar_server, .measure = exp_lidar_throttled_measure },
	{ .name = "gpu-darknet", .help = "Table 3: Darknet on a GPU in the vLib OS vs vanilla Linux (needs a GPU: always a skip here)",
	  .probe = exp_gpu_probe, .measure = gpu_measure },
	{ .name = "timeout", .help = "exp 6: a server that never answers: vLib_call return time minus the timeout",
	  .flags = MECH_NEEDS_KVM, .opts = timeout_opts, .setup = setup_server, .measure = exp_timeout_measure },
	{ .name = "fifo", .help = "exp 6: several clients; served order must equal arrival order (call cycles)",
	  .flags = MECH_NEEDS_KVM, .opts = fifo_opts, .setup = setup_server, .measure = exp_fifo_measure },
	{ .name = "guest-fault", .help = "test: a guest that misbehaves on purpose; the case fails naming how",
	  .flags = MECH_NEEDS_KVM, .opts = fault_opts, .measure = exp_fault_measure },
	{ NULL, NULL },
};

static const struct mechanism_ops vlib_ops = {
	.name = "vlib",
	.abi_version = MECHANISM_ABI_VERSION,
	.flags = 0,   /* every variant but gpu-darknet needs /dev/kvm: its own flag says so */
	.help = "vLibOS: calls from the host (master) into a library OS in a KVM guest (vLib_call, FIFO, timeouts)",
	.variants = vlib_variants,
	.cfg_size = sizeof(struct vlib_cfg),
	.priv_size = sizeof(struct vlib_state),
	.unit = SAMPLE_CYCLES,
	.probe = vlib_probe,
	.teardown = vlib_teardown,
};
MECHANISM_REGISTER(vlib_ops)
