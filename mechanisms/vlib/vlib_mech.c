/*
 * Mechanism vlib: vLibOS (Ye et al.) on KVM. Variants map to the paper's
 * Table 2 and section 5 experiments; each lives in its own exp_*.c.
 */
#include <string.h>
#include <unistd.h>

#include "vlib_exp.h"

enum {
	V_VM_EXIT, V_VM_ENTRY, V_CALL_SYNC, V_CALL_ASYNC, V_DESCHED, V_MAPPING,
	V_MEMBUS_ALONE, V_MEMBUS_GUEST, V_MEMBUS_THROTTLED, V_TIMEOUT, V_FIFO, V_GUEST_FAULT,
};

static const struct variant_desc vlib_variants[] = {
	[V_VM_EXIT] = { "vm-exit", "exp 1: guest stamp before OUT -> host stamp after KVM_RUN returns (cycles)" },
	[V_VM_ENTRY] = { "vm-entry", "exp 1: host stamp before KVM_RUN -> guest stamp after the OUT (cycles)" },
	[V_CALL_SYNC] = { "call-sync", "exp 2: vLib_call overhead T1 - T2 (client time minus server time)" },
	[V_CALL_ASYNC] = { "call-async", "exp 2: vLib_async_call issue -> callback, minus server time" },
	[V_DESCHED] = { "deschedule", "exp 3: master's decision -> the vCPU thread out of guest mode" },
	[V_MAPPING] = { "channel-map", "exp 4: mapping a new one-page channel into the guest on first use" },
	[V_MEMBUS_ALONE] = { "membus-alone", "exp 5: real-time m_jump with budget (C, T), alone (cycles per column)" },
	[V_MEMBUS_GUEST] = { "membus-guest", "exp 5: ... with an unchecked m_jump in the vLib OS guest" },
	[V_MEMBUS_THROTTLED] = { "membus-throttled", "exp 5: ... with the guest's m_jump in a vLib call the master throttles" },
	[V_TIMEOUT] = { "timeout", "exp 6: a server that never answers: vLib_call return time minus the timeout" },
	[V_FIFO] = { "fifo", "exp 6: several clients; served order must equal arrival order (call cycles)" },
	[V_GUEST_FAULT] = { "guest-fault", "test: a guest that misbehaves on purpose; the case fails naming how" },
	{ NULL, NULL },
};

static const char *const op_names[] = { "nop", "transform", NULL };
static const char *const wait_names[] = { "poll", "block", NULL };
static const char *const fault_names[] = { "ud", "pf", "de", "triple", "hang", NULL };

static const struct opt_desc vlib_opts[] = {
	OPT_INT_FIELD(struct vlib_cfg, channel_bytes, "4096", 64, 1 << 20, "bytes",
		      "call-*: channel data size (the payload the guest transforms)"),
	OPT_INT_FIELD(struct vlib_cfg, timeout_us, "0", 0, 10000000, "us",
		      "call-*: vLib_call timeout (0 = none); timeout: the timeout tested (default 1000 there)"),
	OPT_ENUM_FIELD(struct vlib_cfg, op, "transform", op_names,
		       "call-*: nop (the paper's empty call) or transform (guest XORs every payload byte)"),
	OPT_BOOL_FIELD(struct vlib_cfg, verify, "true", "call-*: check every result byte after each call (untimed)"),
	OPT_ENUM_FIELD(struct vlib_cfg, wait, "poll", wait_names,
		       "how the vCPU thread waits while the guest is blocked in vLib_listen"),
	OPT_INT_FIELD(struct vlib_cfg, clients, "4", 2, 16, "threads", "fifo: client threads (the measuring thread is one)"),
	OPT_ENUM_FIELD(struct vlib_cfg, fault, "ud", fault_names, "guest-fault: what the guest does"),
	OPT_INT_FIELD(struct vlib_cfg, u_pct, "10", 1, 90, "%", "membus-*: utilization C/T of both m_jumps (paper 10, 30, 60)"),
	OPT_INT_FIELD(struct vlib_cfg, period_ms, "100", 5, 1000, "ms", "membus-*: period T of the real-time m_jump (paper 100)"),
	OPT_INT_FIELD(struct vlib_cfg, guest_period_ms, "90", 5, 1000, "ms", "membus-throttled: period of the guest's budget (paper 90)"),
	OPT_INT_FIELD(struct vlib_cfg, mjump_kb, "6144", 64, 65536, "KiB", "membus-*: m_jump array size (paper 6 MB)"),
	OPT_INT_FIELD(struct vlib_cfg, throttle_slack_pct, "10", 0, 1000, "%",
		      "membus-throttled: throttle the guest's background time when the RT task is this much slower than alone"),
	OPT_INT_FIELD(struct vlib_cfg, ram_mb, "32", 16, 1024, "MiB", "guest RAM"),
	OPT_TABLE_END,
};

static struct vlib_state state;

int vlib_exp_start_server(struct mech_ctx *ctx, struct vlib_state *st, int vcpu_priority)
{
	const struct vlib_cfg *cfg = ctx->cfg;
	struct vlib_os_config oc = {
		.port = 0, .ram_bytes = (uint64_t)cfg->ram_mb << 20, .program = VLIB_PROG_SERVER,
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

static int vlib_probe(struct mech_ctx *ctx)
{
	if (access("/dev/kvm", R_OK | W_OK) != 0)
		return mech_why(ctx, BENCH_SKIP, "needs /dev/kvm");
	return BENCH_OK;
}

static int vlib_setup(struct mech_ctx *ctx)
{
	memset(&state, 0, sizeof(state));
	ctx->priv = &state;
	switch (ctx->variant) {
	case V_VM_EXIT: case V_VM_ENTRY: case V_GUEST_FAULT: case V_MEMBUS_ALONE:
		return BENCH_OK;   /* these boot their own guest (or none) in measure() */
	case V_MEMBUS_GUEST: case V_MEMBUS_THROTTLED:
		return vlib_exp_start_server(ctx, &state, 0);
	default:
		return vlib_exp_start_server(ctx, &state, ctx->priority);
	}
}

static int vlib_measure(struct mech_ctx *ctx, struct samples *s)
{
	switch (ctx->variant) {
	case V_VM_EXIT: return exp_vmexit_measure(ctx, s, false);
	case V_VM_ENTRY: return exp_vmexit_measure(ctx, s, true);
	case V_CALL_SYNC: return exp_call_measure(ctx, s, false);
	case V_CALL_ASYNC: return exp_call_measure(ctx, s, true);
	case V_DESCHED: return exp_desched_measure(ctx, s);
	case V_MAPPING: return exp_mapping_measure(ctx, s);
	case V_MEMBUS_ALONE: return exp_membus_measure(ctx, s, MEMBUS_ALONE);
	case V_MEMBUS_GUEST: return exp_membus_measure(ctx, s, MEMBUS_GUEST);
	case V_MEMBUS_THROTTLED: return exp_membus_measure(ctx, s, MEMBUS_THROTTLED);
	case V_TIMEOUT: return exp_timeout_measure(ctx, s);
	case V_FIFO: return exp_fifo_measure(ctx, s);
	case V_GUEST_FAULT: return exp_fault_measure(ctx, s);
	}
	return mech_why(ctx, BENCH_FAIL, "unknown variant");
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
}

static const struct mechanism_ops vlib_ops = {
	.name = "vlib",
	.abi_version = MECHANISM_ABI_VERSION,
	.flags = MECH_NEEDS_KVM,
	.help = "vLibOS: calls from the host (master) into a library OS in a KVM guest (vLib_call, FIFO, timeouts)",
	.variants = vlib_variants,
	.opts = vlib_opts,
	.cfg_size = sizeof(struct vlib_cfg),
	.unit = SAMPLE_CYCLES,
	.probe = vlib_probe,
	.setup = vlib_setup,
	.measure = vlib_measure,
	.teardown = vlib_teardown,
};
MECHANISM_REGISTER(vlib_ops)
