/*
 * The KVM floor and the exit ladder (issue 12 item 6): where the vLib
 * substrate's exit + entry spends its time beyond what KVM itself costs.
 * Every variant here times one KVM_RUN from the host (tsc_start before the
 * ioctl, tsc_end after it returns), pinned and SCHED_FIFO as the case says:
 *
 *   kvm-floor          a minimal VM (mechanisms/kvm/kvm_floor.h): real mode,
 *                      no irqchip, `out` + `jmp`, raw ioctl loop
 *   trip-cpl0-pio      the substrate's VM (long mode, paging, irqchip, CPUID,
 *                      TSC offset), a CPL 0 guest doing OUT, raw ioctl loop
 *   trip-cpl0-mmio     ... the hypercall as an MMIO write instead of OUT
 *   trip-cpl3-mmio     ... from CPL 3 (the substrate's hypercall form)
 *   trip-cpl3-stamped  ... with the guest's TSC stamps and mailbox stores
 *                      around each hypercall (what vm-exit/vm-entry need)
 *   trip-runloop       ... and the host's exit decoding and dispatch
 *                      (kvm_run_loop): the substrate's whole path
 * Each step adds one thing, so the differences between neighbouring rows
 * say what each costs on the machine that ran them. Every trip-* case also
 * times the floor in the same process (half its trips before, half after)
 * and reports its own p50 over the floor's as `over_kvm_floor`.
 * The TSC offset is read once when the vCPU is created (kvm_vcpu.c), never
 * per exit: no variant has a per-exit offset read to split out.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../kvm/kvm_runloop.h"
#include "vlib_calc.h"
#include "vlib_exp.h"

#define FLOOR_TRIPS_MAX 2000u
#define OWN_TRIPS_MAX (1u << 20)

int vlib_floor_series(struct kvm_floor *f, uint64_t *v, size_t n, char *why, size_t why_len)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t t0 = tsc_start();
		int rc = kvm_floor_trip(f);
		uint64_t t1 = tsc_end();
		if (rc != 0) {
			snprintf(why, why_len, "%s", f->why);
			return -1;
		}
		v[i] = t1 - t0;
	}
	return 0;
}

static int floor_create(struct mech_ctx *ctx, struct vlib_state *st)
{
	if (kvm_floor_create(&st->floor) != 0) {
		kvm_floor_destroy(&st->floor);
		return mech_why(ctx, BENCH_FAIL, "KVM floor VM: %s", st->floor.why);
	}
	st->floor_created = true;
	return BENCH_OK;
}

void vlib_exp_floor_destroy(struct vlib_state *st)
{
	if (st->floor_created)
		kvm_floor_destroy(&st->floor);
	st->floor_created = false;
}

int vlib_exp_floor_p50(struct mech_ctx *ctx, struct vlib_state *st, size_t n, uint64_t *p50)
{
	if (!st->floor_created) {
		int rc = floor_create(ctx, st);
		if (rc != BENCH_OK)
			return rc;
	}
	uint64_t *v = malloc(n * sizeof(*v));
	if (!v)
		return mech_why(ctx, BENCH_FAIL, "out of memory for the floor's trips");
	char why[256];
	if (vlib_floor_series(&st->floor, v, n, why, sizeof(why)) != 0) {
		free(v);
		return mech_why(ctx, BENCH_FAIL, "KVM floor: %s", why);
	}
	*p50 = vlib_quantile(v, n, 0.5);
	free(v);
	return BENCH_OK;
}

static void report_floor_what(struct mech_ctx *ctx)
{
	report_kv(ctx->report, "kvm_floor_guest", "real mode, CPL 0: out %%al,$%#x; jmp back; no irqchip, one 64 KiB slot",
		  KVM_FLOOR_PORT);
}

int exp_kvm_floor_measure(struct mech_ctx *ctx, struct samples *s)
{
	struct vlib_state *st = ctx->priv;
	int rc = floor_create(ctx, st);
	if (rc != BENCH_OK)
		return rc;
	while (!samples_full(s)) {
		uint64_t t0 = tsc_start();
		int r = kvm_floor_trip(&st->floor);
		uint64_t t1 = tsc_end();
		if (r != 0)
			return mech_why(ctx, BENCH_FAIL, "%s", st->floor.why);
		samples_add(s, t1 - t0);
	}
	report_floor_what(ctx);
	report_int(ctx->report, "kvm_floor_trips", (int64_t)st->floor.trips, "");
	report_kv(ctx->report, "what", "%s", "one KVM_RUN of the floor guest, host stamps around the ioctl: "
		  "entry + OUT exit + KVM's return to user space");
	vlib_exp_report_platform(ctx);
	return BENCH_OK;
}

/* One rung of the ladder: how the guest makes its hypercall, and whether the host decodes it. */
struct trip_kind {
	uint64_t how;            /* VLIB_TRIP_* */
	bool runloop;            /* kvm_run_loop (decode + dispatch) instead of a raw ioctl */
	const char *what;
};

static const struct trip_kind trip_cpl0_pio = { 0, false, "substrate VM, CPL 0, OUT, raw KVM_RUN" };
static const struct trip_kind trip_cpl0_mmio = { VLIB_TRIP_MMIO, false, "substrate VM, CPL 0, MMIO write, raw KVM_RUN" };
static const struct trip_kind trip_cpl3_mmio = { VLIB_TRIP_USER, false, "substrate VM, CPL 3, MMIO write, raw KVM_RUN" };
static const struct trip_kind trip_cpl3_stamped = { VLIB_TRIP_USER | VLIB_TRIP_STAMPS, false,
						    "substrate VM, CPL 3, MMIO write with guest TSC stamps, raw KVM_RUN" };
static const struct trip_kind trip_runloop = { VLIB_TRIP_USER | VLIB_TRIP_STAMPS, true,
					       "substrate VM, CPL 3, MMIO with stamps, kvm_run_loop decoding each exit" };

/* One trip of the substrate guest; 0, or -1 with why. */
static int one_trip(struct kvm_guest *g, const struct trip_kind *k, struct kvm_dispatch *d, struct kvm_exit_state *es,
		    char *why, size_t why_len)
{
	if (k->runloop) {
		int rc = kvm_run_loop(&g->vcpu, d, es, NULL);
		if (rc == KVM_LOOP_RETURNED)
			return 0;
		if (rc == KVM_LOOP_KICKED)
			return 1;
		kvm_exit_describe(es, why, why_len);
		return -1;
	}
	int r = kvm_vcpu_run(&g->vcpu);
	if (r < 0) {
		snprintf(why, why_len, "%s", g->vcpu.why);
		return -1;
	}
	if (r > 0)
		return 1;
	uint32_t want = (k->how & (VLIB_TRIP_MMIO | VLIB_TRIP_USER)) ? KVM_EXIT_MMIO : KVM_EXIT_IO;
	if (g->vcpu.run->exit_reason == want)
		return 0;
	if (kvm_handle_exit(&g->vcpu, d, es) == KVM_HC_RETURN)   /* the STAMP by another route: count it */
		return 0;
	kvm_exit_describe(es, why, why_len);
	return -1;
}

static int trip_measure(struct mech_ctx *ctx, struct samples *s, const struct trip_kind *k)
{
	struct vlib_state *st = ctx->priv;
	int rc = vlib_exp_boot(ctx, &st->guest, VLIB_PROG_TRIP, k->how);
	if (rc != BENCH_OK)
		return rc;
	size_t floor_n = s->cap < FLOOR_TRIPS_MAX ? (size_t)s->cap : FLOOR_TRIPS_MAX;
	if (floor_n < 2)
		floor_n = 2;
	size_t own_cap = s->cap < OWN_TRIPS_MAX ? (size_t)s->cap : OWN_TRIPS_MAX;
	uint64_t *own = malloc((own_cap ? own_cap : 1) * sizeof(*own));
	uint64_t *fl = malloc(floor_n * sizeof(*fl));
	if (!own || !fl) {
		free(own);
		free(fl);
		return mech_why(ctx, BENCH_FAIL, "out of memory for the trips");
	}
	char why[256] = "";
	rc = floor_create(ctx, st);
	if (rc == BENCH_OK && vlib_floor_series(&st->floor, fl, floor_n / 2, why, sizeof(why)) != 0)
		rc = mech_why(ctx, BENCH_FAIL, "KVM floor: %s", why);
	struct kvm_dispatch d = { 0 };
	struct kvm_exit_state es = { 0 };
	size_t own_n = 0;
	while (rc == BENCH_OK && !samples_full(s)) {
		uint64_t t0 = tsc_start();
		int r = one_trip(&st->guest, k, &d, &es, why, sizeof(why));
		uint64_t t1 = tsc_end();
		if (r < 0)
			rc = mech_why(ctx, BENCH_FAIL, "%s", why);
		if (r != 0)
			continue;
		uint64_t before = s->warmup_discarded;
		samples_add(s, t1 - t0);
		if (s->warmup_discarded == before && own_n < own_cap)
			own[own_n++] = t1 - t0;
	}
	if (rc == BENCH_OK &&
	    vlib_floor_series(&st->floor, fl + floor_n / 2, floor_n - floor_n / 2, why, sizeof(why)) != 0)
		rc = mech_why(ctx, BENCH_FAIL, "KVM floor: %s", why);
	if (rc == BENCH_OK) {
		uint64_t floor_p50 = vlib_quantile(fl, floor_n, 0.5), own_p50 = vlib_quantile(own, own_n, 0.5);
		report_int(ctx->report, "kvm_floor_p50_cycles", (int64_t)floor_p50, "cycles");
		report_int(ctx->report, "trip_p50_cycles", (int64_t)own_p50, "cycles");
		report_real(ctx->report, "over_kvm_floor", vlib_ratio(own_p50, floor_p50), "ratio");
		report_kv(ctx->report, "what", "one KVM_RUN, host stamps around it: %s", k->what);
		report_floor_what(ctx);
		vlib_exp_report_platform(ctx);
	}
	free(own);
	free(fl);
	return rc;
}

int exp_trip_cpl0_pio_measure(struct mech_ctx *ctx, struct samples *s)
{
	return trip_measure(ctx, s, &trip_cpl0_pio);
}

int exp_trip_cpl0_mmio_measure(struct mech_ctx *ctx, struct samples *s)
{
	return trip_measure(ctx, s, &trip_cpl0_mmio);
}

int exp_trip_cpl3_mmio_measure(struct mech_ctx *ctx, struct samples *s)
{
	return trip_measure(ctx, s, &trip_cpl3_mmio);
}

int exp_trip_cpl3_stamped_measure(struct mech_ctx *ctx, struct samples *s)
{
	return trip_measure(ctx, s, &trip_cpl3_stamped);
}

int exp_trip_runloop_measure(struct mech_ctx *ctx, struct samples *s)
{
	return trip_measure(ctx, s, &trip_runloop);
}
