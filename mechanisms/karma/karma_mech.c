/*
 * Mechanism karma: Karma (seed 004, "Real-time timers in a VM") on KVM. The
 * guest runs a cyclictest-like loop on the guest timer runtime
 * (mechanisms/kvm/guest/rt_timer.h, rt_cyclic.h); each variant is one of
 * the paper's VMM techniques (karma_vmm.h). Samples are the guest's
 * wake-up latency in ns: guest TSC at the timer handler's entry minus the
 * deadline (vm-tpr: at the end of the release path). The native baseline
 * is mechanism timer, run beside these in bench/suites/karma.toml.
 */
#include <string.h>
#include <unistd.h>

#include "karma_vmm.h"
#include "mechanism.h"

struct karma_cfg {
	int64_t interval_us;
	int64_t near_every, near_ns;
	bool raise_tpr;
	int64_t irq_rate, release_us, dev_work_us;
	int64_t lose_every;
	int fault;
	int64_t fault_after;
	int other_load;
	int64_t other_kb;
	int other_cpu;
};

struct karma_state {
	struct karma_vmm vmm;
};

/* What a variant changes in the VMM; each variant's setup names its own. */
struct karma_exp {
	enum karma_timer_mode mode;
	bool soft;
	bool near;       /* takes near_every / near_ns */
	bool tpr_load;   /* takes the device-interrupt load and the release path */
	bool other_vm;
	bool faults;     /* takes lose_every, fault, fault_after */
};

static const struct opt_desc karma_opts[] = {
	OPT_INT_FIELD(struct karma_cfg, interval_us, "1000", 50, 1000000, "us", "period of the guest's cyclic wake-up"),
	OPT_TABLE_END,
};

static const struct opt_desc trigger_opts[] = {
	OPT_INT_FIELD(struct karma_cfg, near_every, "4", 0, 1000000, "periods",
		      "every Nth period asks for a deadline near_ns after the request (0: never)"),
	OPT_INT_FIELD(struct karma_cfg, near_ns, "500", 0, 1000000, "ns",
		      "the close deadline's distance (below one exit + entry: a soft trigger)"),
	OPT_TABLE_END,
};

static const char *const fault_names[] = { "none", "stop-arming", "crash-timer-thread", NULL };
#define FAULT_OPTS \
	OPT_INT_FIELD(struct karma_cfg, lose_every, "0", 0, 1000000, "events", \
		      "fault injection, for tests: every Nth timer event is counted but its interrupt withheld " \
		      "(a lost interrupt: the guest's watchdog must find it; 0: none)"), \
	OPT_ENUM_FIELD(struct karma_cfg, fault, "none", fault_names, \
		       "fault injection, for tests: stop-arming (the guest arms no timer after fault_after " \
		       "periods: the case must end at its timeout with its row), crash-timer-thread (the VMM's " \
		       "timer thread dies by SIGSEGV after fault_after expiries: the row names the signal)"), \
	OPT_INT_FIELD(struct karma_cfg, fault_after, "10", 1, 1000000, "periods", "when the fault strikes")

static const struct opt_desc pv_opts[] = {
	FAULT_OPTS,
	OPT_TABLE_END,
};

static const struct opt_desc tpr_opts[] = {
	FAULT_OPTS,
	OPT_BOOL_FIELD(struct karma_cfg, raise_tpr, "true",
		       "the guest's timer handler raises the TPR (CR8's register, written as x2APIC MSR 0x808) for the release path, holding device interrupts back"),
	OPT_INT_FIELD(struct karma_cfg, irq_rate, "20000", 100, 1000000, "events/s",
		      "lower-priority device interrupts injected per second (irqfd, vector 0x50)"),
	OPT_INT_FIELD(struct karma_cfg, release_us, "20", 1, 10000, "us",
		      "the release path after the timer handler (interrupts on): what the sample ends with"),
	OPT_INT_FIELD(struct karma_cfg, dev_work_us, "5", 0, 1000, "us", "work of the guest's device handler"),
	OPT_TABLE_END,
};

static const char *const load_names[] = { "spin", "mem", NULL };
static const char *const other_cpu_names[] = { "same", "peer", NULL };
static const struct opt_desc othervm_opts[] = {
	OPT_ENUM_FIELD(struct karma_cfg, other_load, "mem", load_names,
		       "the other VM's load: spin, or mem (a cache line a step over other_kb)"),
	OPT_INT_FIELD(struct karma_cfg, other_kb, "8192", 64, 16384, "KiB", "memory the other VM walks"),
	OPT_ENUM_FIELD(struct karma_cfg, other_cpu, "same", other_cpu_names,
		       "the other VM's vCPU on the real-time vCPU's CPU (same) or on the peer CPU (peer: shared caches only)"),
	OPT_TABLE_END,
};

static const char *platform_note(void)
{
	if (access("/sys/module/kvm_pvm", F_OK) == 0)
		return "PVM (kvm_pvm): software KVM, guest CPL 0 code (all of this guest) is emulated";
	uint32_t a = 1, b, c = 0, d;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	if (!(c >> 31))
		return "hardware virtualization on bare metal: the guest runs natively";
	char sig[13] = { 0 };
	a = 0x40000000;
	c = 0;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	if (strcmp(sig, "TCGTCGTCGTCG") == 0)
		return "tcg: emulated, not a latency (KVM nested inside qemu's TCG: every instruction emulated)";
	return "nested virtualization: this harness runs in a VM, so the guest is a nested one";
}

static int karma_probe(struct mech_ctx *ctx)
{
	if (access("/dev/kvm", R_OK | W_OK) != 0)
		return mech_why(ctx, BENCH_SKIP, "needs /dev/kvm");
	return BENCH_OK;
}

static int karma_setup(struct mech_ctx *ctx, const struct karma_exp *e)
{
	const struct karma_cfg *cfg = ctx->cfg;
	struct karma_state *st = ctx->priv;
	struct karma_vmm_config vc = {
		.mode = e->mode, .soft = e->soft, .period_ns = (uint64_t)cfg->interval_us * 1000u,
		.cpu = ctx->cpu, .peer_cpu = ctx->peer_cpu, .priority = ctx->priority, .tsc_khz = ctx->tsc->tsc_khz,
	};
	if (e->near) {
		vc.near_every = (uint64_t)cfg->near_every;
		vc.near_ns = (uint64_t)cfg->near_ns;
	}
	if (e->tpr_load) {
		vc.tpr = cfg->raise_tpr;
		vc.irq_rate = (uint64_t)cfg->irq_rate;
		vc.release_ns = (uint64_t)cfg->release_us * 1000u;
		vc.dev_work_ns = (uint64_t)cfg->dev_work_us * 1000u;
	}
	if (e->faults) {
		vc.lose_every = (uint64_t)cfg->lose_every;
		vc.fault = (enum karma_fault)cfg->fault;
		vc.fault_after = (uint64_t)cfg->fault_after;
	}
	if (e->other_vm) {
		vc.other = cfg->other_load == 1 ? KARMA_OTHER_MEM : KARMA_OTHER_SPIN;
		vc.other_bytes = (uint64_t)cfg->other_kb << 10;
		vc.other_cpu = cfg->other_cpu == 1 ? ctx->peer_cpu : ctx->cpu;
	}
	report_kv(ctx->report, "platform", "%s", platform_note());
	int rc = karma_vmm_start(&st->vmm, &vc);
	if (rc != BENCH_OK)
		return mech_why(ctx, rc, "%s", st->vmm.why);
	return BENCH_OK;
}

#define KARMA_SETUP(fn, ...) \
	static int fn(struct mech_ctx *ctx) \
	{ \
		static const struct karma_exp e = { __VA_ARGS__ }; \
		return karma_setup(ctx, &e); \
	}
KARMA_SETUP(setup_lapic, .mode = KARMA_TIMER_LAPIC)
KARMA_SETUP(setup_pv_immediate, .mode = KARMA_TIMER_PV, .faults = true)
KARMA_SETUP(setup_pv_deferred, .mode = KARMA_TIMER_PV_DEFERRED, .faults = true)
KARMA_SETUP(setup_pv_soft, .mode = KARMA_TIMER_PV, .soft = true, .near = true)
KARMA_SETUP(setup_pv_hard, .mode = KARMA_TIMER_PV, .near = true)
KARMA_SETUP(setup_tpr, .mode = KARMA_TIMER_PV, .tpr_load = true, .faults = true)
KARMA_SETUP(setup_othervm, .mode = KARMA_TIMER_PV, .other_vm = true)

static int karma_measure(struct mech_ctx *ctx, struct samples *s)
{
	struct karma_state *st = ctx->priv;
	int rc = karma_vmm_run(&st->vmm, s);
	s->missed = st->vmm.counts.missed;
	karma_vmm_report(&st->vmm, ctx->report);
	if (rc != BENCH_OK)
		return mech_why(ctx, rc, "%s", st->vmm.why);
	return BENCH_OK;
}

static void karma_teardown(struct mech_ctx *ctx)
{
	struct karma_state *st = ctx->priv;
	if (st)
		karma_vmm_stop(&st->vmm);
}

static const struct variant_desc karma_variants[] = {
	{ .name = "vm-lapic", .help = "Fig. 4 on KVM: the guest arms KVM's in-kernel LAPIC TSC-deadline timer",
	  .setup = setup_lapic },
	{ .name = "vm-pv-immediate", .help = "Fig. 4/5a: Karma's paravirtual timer, a hypercall per period arms a host "
	  "timerfd, injected by irqfd/MSI", .opts = pv_opts, .setup = setup_pv_immediate },
	{ .name = "vm-pv-deferred", .help = "Fig. 5b: next deadline written to a shared page without exit, the VMM "
	  "re-arms at each expiry", .opts = pv_opts, .setup = setup_pv_deferred },
	{ .name = "vm-pv-soft", .help = "Fig. 6: close deadlines (below exit + entry) injected at once; counts soft/hard",
	  .opts = trigger_opts, .setup = setup_pv_soft },
	{ .name = "vm-pv-hard", .help = "Fig. 6: the same requests, every one armed on the host timer",
	  .opts = trigger_opts, .setup = setup_pv_hard },
	{ .name = "vm-tpr", .help = "Fig. 7: device-interrupt load; latency at the end of the release path, with or "
	  "without the TPR raised", .opts = tpr_opts, .setup = setup_tpr },
	{ .name = "vm-othervm", .help = "Fig. 8: a second VM on the same CPU runs a CPU or memory load",
	  .opts = othervm_opts, .setup = setup_othervm },
	{ NULL, NULL },
};

static const struct mechanism_ops karma_ops = {
	.name = "karma",
	.abi_version = MECHANISM_ABI_VERSION,
	.flags = MECH_NEEDS_KVM,
	.help = "Karma (seed 004): a real-time cyclic timer in a KVM guest under the paper's VMM techniques",
	.variants = karma_variants,
	.opts = karma_opts,
	.cfg_size = sizeof(struct karma_cfg),
	.priv_size = sizeof(struct karma_state),
	.unit = SAMPLE_NS,
	.probe = karma_probe,
	.measure = karma_measure,
	.teardown = karma_teardown,
};
MECHANISM_REGISTER(karma_ops)
