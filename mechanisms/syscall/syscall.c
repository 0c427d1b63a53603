/*
 * syscall: a native system call round trip, user -> kernel -> user, the
 * yardstick for every interposition mechanism. Issued with the raw syscall
 * instruction so no libc caching or vDSO shortcut is involved; each sample
 * is the span from before the instruction to after its return.
 *
 * getppid-loop is the other view, the one `perf bench syscall basic`
 * reports: back-to-back getppid() calls through libc, timed a batch at a
 * time, a sample being the batch's cost per call. It also holds what a call
 * leaves behind for the code after it: with page-table isolation (PTI) and
 * no PCID every kernel entry flushes the TLB, and the caller's page walks
 * after the return fall outside the per-call span (reported: pti, pcid).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mechanism.h"

#define INVALID_NR 1023L   /* far above any allocated x86-64 number */

/* What an experiment calls, and what the call must return to count. */
struct syscall_exp {
	long nr;
	bool expect_enosys;   /* an unallocated number: -ENOSYS; else a call that succeeds */
};

static const struct syscall_exp getppid_exp = { .nr = SYS_getppid };
static const struct syscall_exp invalid_exp = { .nr = INVALID_NR, .expect_enosys = true };
static const struct syscall_exp getpid_exp = { .nr = SYS_getpid };

static inline long raw_syscall0(long nr)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr) : "rcx", "r11", "memory");
	return ret;
}

static int measure_call(struct mech_ctx *ctx, struct samples *s, const struct syscall_exp *e)
{
	/* Check the call behaves as the variant claims before timing it. */
	long ret = raw_syscall0(e->nr);
	if (e->expect_enosys && ret != -ENOSYS)
		return mech_why(ctx, BENCH_FAIL, "syscall %ld returned %ld, expected -ENOSYS", e->nr, ret);
	if (!e->expect_enosys && ret < 0)
		return mech_why(ctx, BENCH_FAIL, "syscall %ld failed: %ld", e->nr, ret);

	while (!samples_full(s)) {
		uint64_t t0 = tsc_start();
		raw_syscall0(e->nr);
		uint64_t t1 = tsc_end();
		samples_add(s, t1 - t0);
	}
	return BENCH_OK;
}

#define LOOP_BATCH 100u

/* What the kernel says of page-table isolation, and whether the CPU has PCID (TLB kept across CR3 writes). */
static void report_isolation(struct mech_ctx *ctx)
{
	char line[160] = "unavailable";
	FILE *f = fopen("/sys/devices/system/cpu/vulnerabilities/meltdown", "r");
	if (f) {
		if (fgets(line, sizeof(line), f))
			line[strcspn(line, "\n")] = 0;
		fclose(f);
	}
	report_kv(ctx->report, "meltdown_mitigation", "%s", line);
	uint32_t a = 1, b, c = 0, d;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	report_kv(ctx->report, "pcid", "%s", (c >> 17) & 1 ? "yes" : "no");
}

static int loop_measure(struct mech_ctx *ctx, struct samples *s)
{
	if (getppid() <= 0)
		return mech_why(ctx, BENCH_FAIL, "getppid() returned no parent");
	report_isolation(ctx);
	report_int(ctx->report, "calls_per_sample", LOOP_BATCH, "calls");
	while (!samples_full(s)) {
		uint64_t t0 = tsc_start();
		for (unsigned i = 0; i < LOOP_BATCH; i++)
			getppid();
		uint64_t t1 = tsc_end();
		samples_add(s, (t1 - t0 + LOOP_BATCH / 2) / LOOP_BATCH);
	}
	return BENCH_OK;
}

static int getppid_measure(struct mech_ctx *ctx, struct samples *s)
{
	report_isolation(ctx);
	return measure_call(ctx, s, &getppid_exp);
}
static int invalid_measure(struct mech_ctx *ctx, struct samples *s) { return measure_call(ctx, s, &invalid_exp); }
static int getpid_measure(struct mech_ctx *ctx, struct samples *s) { return measure_call(ctx, s, &getpid_exp); }

static const struct variant_desc syscall_variants[] = {
	{ .name = "getppid", .help = "getppid(): the cheapest real system call", .flags = MECH_SUBTRACT_PROBE_OVERHEAD,
	  .measure = getppid_measure },
	{ .name = "invalid", .help = "an unallocated syscall number: entry, -ENOSYS, exit",
	  .flags = MECH_SUBTRACT_PROBE_OVERHEAD, .measure = invalid_measure },
	{ .name = "getpid", .help = "getpid()", .flags = MECH_SUBTRACT_PROBE_OVERHEAD, .measure = getpid_measure },
	{ .name = "getppid-loop", .help = "back-to-back getppid() through libc, cost per call of a batch of 100 (what "
	  "perf bench syscall basic reports; includes the caller's TLB refills after each return)",
	  .measure = loop_measure },
	{ NULL, NULL },
};

static const struct mechanism_ops syscall_ops = {
	.name = "syscall",
	.abi_version = MECHANISM_ABI_VERSION,
	.help = "native system call round trip (user -> kernel -> user)",
	.variants = syscall_variants,
	.unit = SAMPLE_CYCLES,
};
MECHANISM_REGISTER(syscall_ops)
