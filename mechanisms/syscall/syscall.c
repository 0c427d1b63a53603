/*
 * syscall: a native system call round trip, user -> kernel -> user, the
 * yardstick for every interposition mechanism. Issued with the raw syscall
 * instruction so no libc caching or vDSO shortcut is involved.
 */
#include <errno.h>
#include <sys/syscall.h>

#include "mechanism.h"

enum { V_GETPPID, V_INVALID, V_GETPID };

static const struct variant_desc syscall_variants[] = {
	[V_GETPPID] = { "getppid", "getppid(): the cheapest real system call" },
	[V_INVALID] = { "invalid", "an unallocated syscall number: entry, -ENOSYS, exit" },
	[V_GETPID] = { "getpid", "getpid()" },
	{ NULL, NULL },
};

#define INVALID_NR 1023L   /* far above any allocated x86-64 number */

static inline long raw_syscall0(long nr)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr) : "rcx", "r11", "memory");
	return ret;
}

static int syscall_measure(struct mech_ctx *ctx, struct samples *s)
{
	static const long nrs[] = { [V_GETPPID] = SYS_getppid, [V_INVALID] = INVALID_NR,
				    [V_GETPID] = SYS_getpid };
	long nr = nrs[ctx->variant];

	/* Check the call behaves as the variant claims before timing it. */
	long ret = raw_syscall0(nr);
	if (ctx->variant == V_INVALID && ret != -ENOSYS)
		return mech_why(ctx, BENCH_FAIL, "syscall %ld returned %ld, expected -ENOSYS", nr, ret);
	if (ctx->variant != V_INVALID && ret < 0)
		return mech_why(ctx, BENCH_FAIL, "syscall %ld failed: %ld", nr, ret);

	while (!samples_full(s)) {
		uint64_t t0 = tsc_start();
		raw_syscall0(nr);
		uint64_t t1 = tsc_end();
		samples_add(s, t1 - t0);
	}
	return BENCH_OK;
}

static const struct mechanism_ops syscall_ops = {
	.name = "syscall",
	.abi_version = MECHANISM_ABI_VERSION,
	.flags = MECH_SUBTRACT_PROBE_OVERHEAD,
	.help = "native system call round trip (user -> kernel -> user)",
	.variants = syscall_variants,
	.unit = SAMPLE_CYCLES,
	.measure = syscall_measure,
};
MECHANISM_REGISTER(syscall_ops)
