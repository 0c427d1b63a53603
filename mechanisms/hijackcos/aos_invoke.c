/*
 * Table I in the AOS (guest/cos.c): component A invokes a null function in
 * component B and returns. Every sample is taken in the guest, at user
 * level in A, with the guest's TSC (the same rate as the host's; the VMM
 * sets the offset to 0 where KVM allows), in batches the host asks for.
 *
 *   aos-invoke          SYSCALL into the AOS kernel, CR3 switch to B's
 *                       tables, SYSRET into B at user level, B's null
 *                       function (its private seed + arg), SYSCALL back,
 *                       CR3 back to A, SYSRET to A; then, in the same run,
 *                       the hardware parts below, and their share of the
 *                       invocation (medians; of the means as the paper's
 *                       69.85% too)
 *   aos-invoke-shared   the same with B on A's tables: no CR3 write
 *   aos-hw-syscalls     two null system-call round trips
 *   aos-hw-cr3          two CR3 writes (to B's tables and back), timed in
 *                       the kernel
 *
 * Correctness, checked on every invocation: the result is the callee's
 * seed + arg (B's own seed only when B ran on its own tables: A's tables do
 * not map B's private page, B's do not map A's), and the invocation
 * counter in B's private page (or A's, for aos-invoke-shared) equals the
 * invocations made.
 */
#include <stdlib.h>

#include "aos_host.h"

#define BATCH_MAX 8192u
#define PARTS_SAMPLES 10000u
#define PAPER_HW_SHARE 0.6985

int aos_invoke_setup(struct mech_ctx *ctx)
{
	struct aos_state *a = aos_priv(ctx);
	/* The AOS's vCPU runs on the measuring CPU at the case's priority: the whole path is in the guest. */
	int rc = aos_vm_boot(ctx, a, COS_PROG_INVOKE);
	if (rc == BENCH_OK)
		rc = aos_vm_launch(ctx, a, ctx->cpu, ctx->priority);
	if (rc != BENCH_OK)
		return rc;
	/* The first exit asks for a command: the AOS is up, its components are set. */
	return aos_vm_command(ctx, a, COS_CMD_SYSCALLS, 1, 0);
}

struct run_sum {
	uint64_t n, wrong;
	uint64_t calls;   /* the guest's iterations (n counts those recorded) */
	double sum_cycles;
	uint64_t *keep;   /* NULL, or the first keep_cap values recorded (for the median) */
	uint64_t keep_n, keep_cap;
};

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

static double median(struct run_sum *r)
{
	if (!r->keep || r->keep_n == 0)
		return 0;
	qsort(r->keep, r->keep_n, sizeof(r->keep[0]), cmp_u64);
	uint64_t m = r->keep_n / 2;
	return r->keep_n % 2 ? (double)r->keep[m] : ((double)r->keep[m - 1] + (double)r->keep[m]) / 2;
}

/* Run cmd until s is full (s != NULL) or n samples (s == NULL); sums in *r. */
static int run_batches(struct mech_ctx *ctx, struct aos_state *a, uint64_t cmd, uint64_t seed, struct samples *s,
		       uint64_t n, struct run_sum *r)
{
	const uint64_t *v = kvm_vm_gpa(&a->g.vm, COS_SAMPLES_GPA);
	struct kvm_mailbox *mb = kvm_vm_mailbox(&a->g.vm);
	while (s ? !samples_full(s) : r->n < n) {
		uint64_t want = BATCH_MAX;
		if (s && s->cap != UINT64_MAX) {
			uint64_t left = s->cap - s->count + (s->warmup_target - s->warmup_discarded);
			want = left < want ? left : want;
		} else if (!s) {
			want = n - r->n < want ? n - r->n : want;
		}
		if (want == 0)
			want = 1;
		/* B's arg runs from 0 in each batch: the expected results are seed + i. */
		int rc = aos_vm_command(ctx, a, cmd, want, seed);
		if (rc != BENCH_OK)
			return rc;
		r->wrong += mb->arg[0];
		r->calls += want;
		for (uint64_t i = 0; i < want && (!s || !samples_full(s)); i++) {
			if (s)
				samples_add(s, v[i]);
			r->sum_cycles += (double)v[i];
			r->n++;
			if (r->keep && r->keep_n < r->keep_cap)
				r->keep[r->keep_n++] = v[i];
		}
	}
	return BENCH_OK;
}

static int finish_checks(struct mech_ctx *ctx, struct aos_state *a, const struct run_sum *r, uint64_t invocations,
			 bool own_space)
{
	const struct cos_private *pa = kvm_vm_gpa(&a->g.vm, COS_PRIV_A_GPA);
	const struct cos_private *pb = kvm_vm_gpa(&a->g.vm, COS_PRIV_B_GPA);
	struct kvm_mailbox *mb = kvm_vm_mailbox(&a->g.vm);
	report_int(ctx->report, "invocations", (int64_t)invocations, "");
	report_int(ctx->report, "wrong_returns", (int64_t)r->wrong, "");
	report_int(ctx->report, "b_calls_in_b_space", (int64_t)pb->b_calls, "");
	report_int(ctx->report, "b_calls_in_a_space", (int64_t)pa->b_calls, "");
	report_int(ctx->report, "a_sees_own_seed", mb->arg[2] == COS_SEED_A, "");
	uint64_t in_b = own_space ? invocations : 0, in_a = own_space ? 0 : invocations;
	if (r->wrong)
		return mech_why(ctx, BENCH_FAIL, "%llu of %llu invocations returned something else than the callee's "
				"seed + arg", (unsigned long long)r->wrong, (unsigned long long)invocations);
	if (pb->b_calls != in_b || pa->b_calls != in_a)
		return mech_why(ctx, BENCH_FAIL, "B counted %llu calls in its own space and %llu in A's, expected %llu "
				"and %llu", (unsigned long long)pb->b_calls, (unsigned long long)pa->b_calls,
				(unsigned long long)in_b, (unsigned long long)in_a);
	if (mb->arg[2] != COS_SEED_A)
		return mech_why(ctx, BENCH_FAIL, "A read %#llx from its private page, not its seed",
				(unsigned long long)mb->arg[2]);
	return BENCH_OK;
}

static int hw_share(struct mech_ctx *ctx, struct aos_state *a, struct run_sum *inv, struct run_sum *sys,
		    struct run_sum *cr3);

static int invoke_measure(struct mech_ctx *ctx, struct samples *s, bool own_space)
{
	struct aos_state *a = aos_priv(ctx);
	static const uint64_t keep_cap = 1u << 20;
	uint64_t *keep = own_space ? calloc(3 * keep_cap, sizeof(uint64_t)) : NULL;
	if (own_space && !keep)
		return mech_why(ctx, BENCH_FAIL, "out of memory for the hardware share");
	struct run_sum inv = { .keep = keep, .keep_cap = keep_cap };
	struct run_sum sys = { .keep = keep + keep_cap, .keep_cap = keep_cap };
	struct run_sum cr3 = { .keep = keep + 2 * keep_cap, .keep_cap = keep_cap };
	int rc = run_batches(ctx, a, own_space ? COS_CMD_INVOKE : COS_CMD_INVOKE_SHARED,
			     own_space ? COS_SEED_B : COS_SEED_A, s, 0, &inv);
	if (rc == BENCH_OK)
		rc = finish_checks(ctx, a, &inv, inv.calls, own_space);
	if (rc == BENCH_OK && own_space)
		rc = hw_share(ctx, a, &inv, &sys, &cr3);
	free(keep);
	return rc;
}

/*
 * The hardware parts, in the same run, and their share of the invocation:
 * hw_share from the medians (robust to the rare long sample: an interrupt,
 * or an emulated exit under nested KVM), hw_share_of_means as the paper's.
 */
static int hw_share(struct mech_ctx *ctx, struct aos_state *a, struct run_sum *inv, struct run_sum *sys,
		    struct run_sum *cr3)
{
	uint64_t n = inv->n < PARTS_SAMPLES ? inv->n : PARTS_SAMPLES;
	int rc = run_batches(ctx, a, COS_CMD_SYSCALLS, 0, NULL, n, sys);
	if (rc == BENCH_OK)
		rc = run_batches(ctx, a, COS_CMD_CR3, 0, NULL, n, cr3);
	if (rc != BENCH_OK)
		return rc;
	if (sys->wrong || cr3->wrong)
		return mech_why(ctx, BENCH_FAIL, "hardware parts: %llu null system calls and %llu CR3 pairs failed",
				(unsigned long long)sys->wrong, (unsigned long long)cr3->wrong);
	double inv_mean = inv->n ? inv->sum_cycles / (double)inv->n : 0;
	double sys_mean = sys->n ? sys->sum_cycles / (double)sys->n : 0;
	double cr3_mean = cr3->n ? cr3->sum_cycles / (double)cr3->n : 0;
	double inv_p50 = median(inv), sys_p50 = median(sys), cr3_p50 = median(cr3);
	report_real(ctx->report, "invoke_mean_cycles", inv_mean, "cycles");
	report_real(ctx->report, "hw_2_syscalls_mean_cycles", sys_mean, "cycles");
	report_real(ctx->report, "hw_2_cr3_writes_mean_cycles", cr3_mean, "cycles");
	report_real(ctx->report, "invoke_p50_cycles", inv_p50, "cycles");
	report_real(ctx->report, "hw_2_syscalls_p50_cycles", sys_p50, "cycles");
	report_real(ctx->report, "hw_2_cr3_writes_p50_cycles", cr3_p50, "cycles");
	report_int(ctx->report, "hw_parts_samples", (int64_t)n, "");
	report_real(ctx->report, "hw_share", inv_p50 > 0 ? (sys_p50 + cr3_p50) / inv_p50 : 0, "");
	report_real(ctx->report, "hw_share_of_means", inv_mean > 0 ? (sys_mean + cr3_mean) / inv_mean : 0, "");
	report_real(ctx->report, "hw_share_paper", PAPER_HW_SHARE, "");
	return BENCH_OK;
}

int aos_invoke_measure(struct mech_ctx *ctx, struct samples *s)
{
	return invoke_measure(ctx, s, true);
}

int aos_invoke_shared_measure(struct mech_ctx *ctx, struct samples *s)
{
	return invoke_measure(ctx, s, false);
}

static int part_measure(struct mech_ctx *ctx, struct samples *s, uint64_t cmd, const char *what)
{
	struct aos_state *a = aos_priv(ctx);
	struct run_sum r = { 0 };
	int rc = run_batches(ctx, a, cmd, 0, s, 0, &r);
	if (rc != BENCH_OK)
		return rc;
	report_int(ctx->report, "samples_taken", (int64_t)r.n, "");
	report_int(ctx->report, "failed", (int64_t)r.wrong, "");
	if (r.wrong)
		return mech_why(ctx, BENCH_FAIL, "%llu of %llu %s failed", (unsigned long long)r.wrong,
				(unsigned long long)r.n, what);
	return BENCH_OK;
}

int aos_hw_syscalls_measure(struct mech_ctx *ctx, struct samples *s)
{
	return part_measure(ctx, s, COS_CMD_SYSCALLS, "null system-call pairs");
}

int aos_hw_cr3_measure(struct mech_ctx *ctx, struct samples *s)
{
	return part_measure(ctx, s, COS_CMD_CR3, "CR3 write pairs");
}

void aos_teardown(struct mech_ctx *ctx)
{
	aos_vm_stop(aos_priv(ctx));
}
