/*
 * Experiment 1: VM exit and VM entry from guest and host timestamps on one
 * TSC (the guest's TSC offset is set to 0 or read and corrected for).
 *   exit  = host stamp after KVM_RUN returns - guest stamp before its hypercall
 *   entry = guest stamp after the hypercall - host stamp before the KVM_RUN
 *           that resumed the guest from it (the same KVM_RUN that ends
 *           with the next exit)
 * The guest stamps from CPL 3 and its hypercall is the runtime's MMIO write
 * (kvm_abi.h), so on a software KVM (PVM) nothing around it is emulated.
 * Both include KVM's path to and from the VMM's user space, not only the
 * hardware transition the paper's partitioning hypervisor measured.
 * Also: the guest-fault test variant, which must end naming the fault.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../kvm/kvm_runloop.h"
#include "vlib_calc.h"
#include "vlib_exp.h"

extern const unsigned char vlib_guest_image[];
extern const size_t vlib_guest_image_bytes;

int vlib_exp_boot(struct mech_ctx *ctx, struct kvm_guest *g, uint32_t program, uint64_t arg)
{
	const struct vlib_cfg *cfg = ctx->cfg;
	struct kvm_boot_info b = { .magic = KVM_BOOT_MAGIC, .program = program, .ram_bytes = (uint64_t)cfg->ram_mb << 20,
				   .tsc_khz = ctx->tsc->tsc_khz, .arg = { arg } };
	char why[256];
	if (kvm_guest_boot(g, b.ram_bytes, vlib_guest_image, vlib_guest_image_bytes, &b, why, sizeof(why)) != 0)
		return mech_why(ctx, BENCH_FAIL, "boot: %s", why);
	return BENCH_OK;
}

/* Both directions and the host's round trip of every ordered exit, for the floor comparison. */
struct vmexit_series {
	uint64_t *exit, *entry, *round_trip;
	size_t n, cap;
};

/* The floor's p50: the mean of the p50s of its block before the exits and its block after. */
static int vmexit_report_floor(struct mech_ctx *ctx, struct vmexit_series *v, size_t floor_n, uint64_t floor_before)
{
	struct vlib_state *st = ctx->priv;
	uint64_t floor_after = 0;
	int rc = vlib_exp_floor_p50(ctx, st, floor_n, &floor_after);
	if (rc != BENCH_OK)
		return rc;
	uint64_t floor_p50 = (floor_before + floor_after) / 2;
	report_int(ctx->report, "kvm_floor_p50_before_cycles", (int64_t)floor_before, "cycles");
	report_int(ctx->report, "kvm_floor_p50_after_cycles", (int64_t)floor_after, "cycles");
	uint64_t exit_p50 = vlib_quantile(v->exit, v->n, 0.5), entry_p50 = vlib_quantile(v->entry, v->n, 0.5);
	char note[REPORT_VAL_MAX];
	double r = vlib_floor_note(note, sizeof(note), exit_p50, entry_p50, floor_p50);
	report_int(ctx->report, "vm_exit_p50_cycles", (int64_t)exit_p50, "cycles");
	report_int(ctx->report, "vm_entry_p50_cycles", (int64_t)entry_p50, "cycles");
	report_int(ctx->report, "host_round_trip_p50_cycles", (int64_t)vlib_quantile(v->round_trip, v->n, 0.5), "cycles");
	report_int(ctx->report, "kvm_floor_p50_cycles", (int64_t)floor_p50, "cycles");
	report_real(ctx->report, "exit_plus_entry_over_kvm_floor", r, "ratio");
	report_kv(ctx->report, "section_note", "%s", note);
	return BENCH_OK;
}

static int vmexit_measure(struct mech_ctx *ctx, struct samples *s, bool entry)
{
	struct vlib_state *st = ctx->priv;
	struct kvm_guest *g = &st->guest;
	uint64_t wanted = s->cap + s->warmup_target + 2;
	int rc = vlib_exp_boot(ctx, g, VLIB_PROG_STAMPS, wanted);
	if (rc != BENCH_OK)
		return rc;
	if (g->vcpu.guest_tsc_khz != g->vm.host_tsc_khz && g->vm.host_tsc_khz)
		return mech_why(ctx, BENCH_SKIP, "KVM scales the guest TSC (%llu vs %llu kHz): no common time base",
				(unsigned long long)g->vcpu.guest_tsc_khz, (unsigned long long)g->vm.host_tsc_khz);
	/* The floor in the same process: half its trips before the exits, half after. */
	size_t floor_n = s->cap < 2000 ? (size_t)(s->cap < 2 ? 2 : s->cap) : 2000;
	struct vmexit_series v = { .cap = s->cap < (1u << 20) ? (size_t)s->cap : (1u << 20) };
	v.exit = malloc((v.cap + 1) * sizeof(uint64_t));
	v.entry = malloc((v.cap + 1) * sizeof(uint64_t));
	v.round_trip = malloc((v.cap + 1) * sizeof(uint64_t));
	uint64_t floor_before = 0;
	if (!v.exit || !v.entry || !v.round_trip)
		rc = mech_why(ctx, BENCH_FAIL, "out of memory for the exit series");
	else
		rc = vlib_exp_floor_p50(ctx, st, floor_n / 2, &floor_before);
	struct kvm_dispatch d = { 0 };
	struct kvm_exit_state es = { 0 };
	struct kvm_mailbox *mb = kvm_vm_mailbox(&g->vm);
	uint64_t stamps = 0, disorder = 0;
	while (rc == BENCH_OK && !samples_full(s)) {
		uint64_t h_enter = tsc_start();
		int r = kvm_vcpu_run(&g->vcpu);
		uint64_t h_exit = tsc_end();
		if (r < 0) {
			rc = mech_why(ctx, BENCH_FAIL, "%s", g->vcpu.why);
			break;
		}
		if (r > 0)
			continue;
		int action = kvm_handle_exit(&g->vcpu, &d, &es);
		if (action == KVM_HC_END) {
			char text[200];
			kvm_exit_describe(&es, text, sizeof(text));
			rc = mech_why(ctx, BENCH_FAIL, "guest ended early: %s (%llu of %llu exits had host and guest stamps "
				      "out of order)", text, (unsigned long long)disorder, (unsigned long long)stamps);
			break;
		}
		if (action != KVM_HC_RETURN)
			continue;
		uint64_t g_exit = kvm_vcpu_guest_to_host_tsc(&g->vcpu, mb->tsc_before_exit);
		uint64_t g_entry = kvm_vcpu_guest_to_host_tsc(&g->vcpu, mb->tsc_after_entry);
		/*
		 * Both guest stamps belong to this KVM_RUN: tsc_after_entry was taken
		 * when this run resumed the guest after its previous hypercall,
		 * tsc_before_exit right before the hypercall that ended this run. (The
		 * entry used to be taken from the previous run's host stamp, which
		 * added a whole round trip and the host's work between runs to it.)
		 * The first run has no previous hypercall, so no entry stamp.
		 */
		struct vlib_run_stamps run = { .h_enter = h_enter, .g_entry = g_entry, .g_exit = g_exit, .h_exit = h_exit };
		uint64_t exit_cycles, entry_cycles;
		if (stamps > 0) {
			bool ordered = vlib_exit_entry(&run, &exit_cycles, &entry_cycles);
			if (!ordered && !disorder)
				report_kv(ctx->report, "first_disorder", "h_enter %llu g_entry %+lld g_exit %+lld h_exit %+lld",
					  (unsigned long long)h_enter, (long long)(g_entry - h_enter), (long long)(g_exit - h_enter),
					  (long long)(h_exit - h_enter));
			disorder += !ordered;
			if (ordered) {
				uint64_t before = s->warmup_discarded;
				samples_add(s, entry ? entry_cycles : exit_cycles);
				if (s->warmup_discarded == before && v.n < v.cap) {
					v.exit[v.n] = exit_cycles;
					v.entry[v.n] = entry_cycles;
					v.round_trip[v.n++] = h_exit - h_enter;
				}
			}
		}
		stamps++;
	}
	if (rc == BENCH_OK)
		rc = vmexit_report_floor(ctx, &v, floor_n - floor_n / 2, floor_before);
	free(v.exit);
	free(v.entry);
	free(v.round_trip);
	if (rc != BENCH_OK)
		return rc;
	report_int(ctx->report, "timebase_exits", (int64_t)(stamps - 1), "");
	report_int(ctx->report, "timebase_exits_ordered", (int64_t)(stamps - 1 - disorder), "");   /* host < guest < host */
	report_int(ctx->report, "guest_tsc_offset", g->vcpu.tsc_offset, "cycles");
	report_kv(ctx->report, "guest_tsc_offset_how", "%s",
		  g->vcpu.tsc_offset_set ? "set to 0 via KVM_VCPU_TSC_OFFSET" : "read via KVM_VCPU_TSC_OFFSET");
	report_kv(ctx->report, "what", "%s", entry ? "host before KVM_RUN -> guest (CPL 3) after its MMIO hypercall (includes KVM's return path to the guest)"
					      : "guest (CPL 3) before its MMIO hypercall -> host after KVM_RUN (includes KVM's exit path to user space)");
	vlib_exp_report_platform(ctx);
	if (disorder)
		return mech_why(ctx, BENCH_FAIL, "%llu exits had host and guest stamps out of order: no common time base",
				(unsigned long long)disorder);
	return BENCH_OK;
}

int exp_vmexit_exit_measure(struct mech_ctx *ctx, struct samples *s)
{
	return vmexit_measure(ctx, s, false);
}

int exp_vmexit_entry_measure(struct mech_ctx *ctx, struct samples *s)
{
	return vmexit_measure(ctx, s, true);
}

struct watchdog {
	struct kvm_vcpu *vcpu;
	_Atomic int *stop;
	_Atomic int done;
	uint64_t after_us;
};

static void *watchdog_thread(void *arg)
{
	struct watchdog *w = arg;
	for (uint64_t waited = 0; waited < w->after_us && !atomic_load(&w->done); waited += 1000)
		usleep(1000);
	if (!atomic_load(&w->done)) {
		atomic_store(w->stop, KVM_GUEST_UNRESPONSIVE);
		kvm_vcpu_kick(w->vcpu);
	}
	return NULL;
}

int exp_fault_measure(struct mech_ctx *ctx, struct samples *s)
{
	(void)s;
	const struct vlib_cfg *cfg = ctx->cfg;
	struct vlib_state *st = ctx->priv;
	int rc = vlib_exp_boot(ctx, &st->guest, VLIB_PROG_FAULT, (uint64_t)cfg->fault);
	if (rc != BENCH_OK)
		return rc;
	struct kvm_vcpu *vcpu = &st->guest.vcpu;
	if (kvm_vcpu_bind_thread(vcpu, -1, 0) != 0)
		return mech_why(ctx, BENCH_FAIL, "%s", vcpu->why);
	_Atomic int stop = KVM_GUEST_RUNNING;
	struct watchdog w = { .vcpu = vcpu, .stop = &stop, .after_us = 500000 };
	pthread_t t;
	if (pthread_create(&t, NULL, watchdog_thread, &w) != 0)
		return mech_why(ctx, BENCH_FAIL, "cannot start the watchdog");
	struct kvm_dispatch d = { 0 };
	struct kvm_exit_state es = { 0 };
	while (kvm_run_loop(vcpu, &d, &es, &stop) != KVM_LOOP_ENDED)
		;
	atomic_store(&w.done, 1);
	pthread_join(t, NULL);
	char text[200];
	kvm_exit_describe(&es, text, sizeof(text));
	if (es.status == KVM_GUEST_UNRESPONSIVE)
		snprintf(text, sizeof(text), "guest unresponsive: no exit within 500 ms, stopped by the watchdog");
	kvm_guest_destroy(&st->guest);
	return mech_why(ctx, BENCH_FAIL, "%s (VM torn down)", text);
}
