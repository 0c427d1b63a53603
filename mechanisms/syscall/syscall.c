/*
 * syscall: a native system call round trip, user -> kernel -> user, the
 * yardstick for every interposition mechanism. Issued with the raw syscall
 * instruction so no libc caching or vDSO shortcut is involved.
 */
#include <errno.h>
#include <stdbool.h>
#include <sys/syscall.h>

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

static int getppid_measure(struct mech_ctx *ctx, struct samples *s) { return measure_call(ctx, s, &getppid_exp); }
static int invalid_measure(struct mech_ctx *ctx, struct samples *s) { return measure_call(ctx, s, &invalid_exp); }
static int getpid_measure(struct mech_ctx *ctx, struct samples *s) { return measure_call(ctx, s, &getpid_exp); }

static const struct variant_desc syscall_variants[] = {
	{ .name = "getppid", .help = "getppid(): the cheapest real system call", .measure = getppid_measure },
	{ .name = "invalid", .help = "an unallocated syscall number: entry, -ENOSYS, exit", .measure = invalid_measure },
	{ .name = "getpid", .help = "getpid()", .measure = getpid_measure },
	{ NULL, NULL },
};

static const struct mechanism_ops syscall_ops = {
	.name = "syscall",
	.abi_version = MECHANISM_ABI_VERSION,
	.flags = MECH_SUBTRACT_PROBE_OVERHEAD,
	.help = "native system call round trip (user -> kernel -> user)",
	.variants = syscall_variants,
	.unit = SAMPLE_CYCLES,
};
MECHANISM_REGISTER(syscall_ops)
