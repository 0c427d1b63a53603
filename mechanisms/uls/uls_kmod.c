/*
 * upcall-kmod: ULS's upcall as the paper built it, through the
 * gapbench_upcall module (kmods/): the kernel returns to user mode straight
 * into the extension's entry point with %rsp at the top of the sandbox
 * stack, by rewriting the thread's saved registers on the way out of an
 * ioctl. No signal is raised and no signal frame is written; the extension
 * ends with another ioctl that resumes the interrupted context.
 *
 *   sample        the TSC before the trigger ioctl -> the extension's first
 *                 instruction (as `upcall`, whose path is a signal)
 *   facts         roundtrip_mean_cycles: trigger -> extension -> return ->
 *                 back after the trigger; kernel_to_handler_mean_cycles: the
 *                 module's TSC at the event (ioctl entry) -> the first instruction
 *
 * Every upcall is checked: the extension ran on the sandbox stack (its entry
 * %rsp is the stack's top - 8, where a signal frame would have been), got
 * the trigger's argument, and the module's counters match the calls.
 *
 * Without the module the variant never gets here: it declares
 * MECH_NEEDS_KMOD and the harness reports "skip: module gapbench_upcall not
 * loaded".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../kmods/gapbench_upcall/gapbench_upcall.h"
#include "uls_kmod.h"

#define KMOD_STACK_BYTES (64u * 1024u)
#define KMOD_CHECK_CALLS 8

struct kmod_upcall_state {
	int fd;
	unsigned char *stack;
	uint64_t calls;
	/* written by the extension */
	volatile uint64_t entry_cycles, kernel_cycles, last_arg, upcalls, off_stack;
	volatile int return_errno;
};

/* The extension finds the case's state here: set in setup, cleared in teardown (mechanism.h's rule). */
static struct kmod_upcall_state *volatile g_kmod_upcall;

void uls_kmod_entry(void);
void uls_kmod_extension(uint64_t arg, uint64_t kernel_tsc, uint64_t src, uint64_t cookie, uint64_t entry_rsp,
			uint64_t entry_cycles);

/* The extension's first instructions: the TSC (lfence; rdtsc, as tsc_end) and %rsp, then C. */
__asm__(".text\n.globl uls_kmod_entry\n.type uls_kmod_entry,@function\nuls_kmod_entry:\n"
	"\tmov %rdx, %r11\n"
	"\tlfence\n"
	"\trdtsc\n"
	"\tshl $32, %rdx\n"
	"\tor %rax, %rdx\n"
	"\tmov %rdx, %r9\n"
	"\tmov %r11, %rdx\n"
	"\tmov %rsp, %r8\n"
	"\tand $-16, %rsp\n"
	"\tcall uls_kmod_extension\n"
	"\tud2\n"
	".size uls_kmod_entry, .-uls_kmod_entry\n");

void uls_kmod_extension(uint64_t arg, uint64_t kernel_tsc, uint64_t src, uint64_t cookie, uint64_t entry_rsp,
			uint64_t entry_cycles)
{
	struct kmod_upcall_state *u = g_kmod_upcall;

	(void)src;
	(void)cookie;
	u->entry_cycles = entry_cycles;
	u->kernel_cycles = kernel_tsc;
	u->last_arg = arg;
	if (entry_rsp != (uint64_t)(uintptr_t)(u->stack + KMOD_STACK_BYTES - 8))
		u->off_stack++;
	u->upcalls++;
	ioctl(u->fd, GBUP_IOC_RETURN);
	/* reached only when the module refused to resume us: nothing to return to */
	u->return_errno = errno;
	_exit(70);
}

int uls_kmod_setup(struct mech_ctx *ctx)
{
	struct kmod_upcall_state *u = calloc(1, sizeof(*u));

	if (!u)
		return mech_why_errno(ctx, BENCH_FAIL, "upcall-kmod state");
	u->fd = -1;
	ctx->priv = u;
	u->stack = mmap(NULL, KMOD_STACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (u->stack == MAP_FAILED) {
		u->stack = NULL;
		return mech_why_errno(ctx, BENCH_FAIL, "mapping the sandbox stack");
	}
	u->fd = open(GBUP_DEV, O_RDWR | O_CLOEXEC);
	if (u->fd < 0)
		return mech_why_errno(ctx, BENCH_FAIL, "open %s", GBUP_DEV);
	struct gbup_register r = { .handler = (uintptr_t)uls_kmod_entry, .stack_base = (uintptr_t)u->stack,
				   .stack_size = KMOD_STACK_BYTES, .cookie = 1 };
	if (ioctl(u->fd, GBUP_IOC_REGISTER, &r) != 0)
		return mech_why_errno(ctx, BENCH_FAIL, "GBUP_IOC_REGISTER");
	g_kmod_upcall = u;
	for (uint64_t i = 0; i < KMOD_CHECK_CALLS; i++) {
		uint64_t arg = 0x5eed0000 + i;
		if (ioctl(u->fd, GBUP_IOC_TRIGGER, &arg) != 0)
			return mech_why_errno(ctx, BENCH_FAIL, "GBUP_IOC_TRIGGER");
		u->calls++;
		if (u->upcalls != u->calls || u->last_arg != arg)
			return mech_why(ctx, BENCH_FAIL, "check upcall %llu: the extension ran %llu times, argument %#llx",
					(unsigned long long)i, (unsigned long long)u->upcalls,
					(unsigned long long)u->last_arg);
	}
	if (u->off_stack)
		return mech_why(ctx, BENCH_FAIL, "the extension was entered off the sandbox stack's top");
	report_kv(ctx->report, "upcall", "gapbench_upcall: the kernel returns into the extension on the sandbox "
		  "stack (pt_regs rewritten on the way out of an ioctl), no signal frame");
	report_int(ctx->report, "sandbox_stack_bytes", KMOD_STACK_BYTES, "bytes");
	return BENCH_OK;
}

/* Every sample is tsc_start() .. the extension's first instruction: one span. */
int uls_kmod_measure(struct mech_ctx *ctx, struct samples *s)
{
	struct kmod_upcall_state *u = ctx->priv;
	uint64_t calls = 0, rt_sum = 0, k_sum = 0, wrong = 0;

	while (!samples_full(s)) {
		uint64_t arg = calls;
		uint64_t t0 = tsc_start();
		long rc = ioctl(u->fd, GBUP_IOC_TRIGGER, &arg);
		uint64_t t1 = tsc_end();
		if (BENCH_UNLIKELY(rc != 0))
			return mech_why_errno(ctx, BENCH_FAIL, "GBUP_IOC_TRIGGER after %llu upcalls",
					      (unsigned long long)calls);
		wrong += u->last_arg != arg;
		rt_sum += t1 - t0;
		k_sum += u->entry_cycles - u->kernel_cycles;
		calls++;
		samples_add(s, u->entry_cycles - t0);
	}
	u->calls += calls;
	struct gbup_stats st;
	if (ioctl(u->fd, GBUP_IOC_STATS, &st) != 0)
		return mech_why_errno(ctx, BENCH_FAIL, "GBUP_IOC_STATS");
	report_int(ctx->report, "roundtrip_mean_cycles", calls ? (int64_t)(rt_sum / calls) : 0, "cycles");
	report_int(ctx->report, "kernel_to_handler_mean_cycles", calls ? (int64_t)(k_sum / calls) : 0, "cycles");
	report_int(ctx->report, "module_delivered", (int64_t)st.delivered, "upcalls");
	report_int(ctx->report, "module_returned", (int64_t)st.returned, "upcalls");
	if (wrong || u->off_stack)
		return mech_why(ctx, BENCH_FAIL, "%llu upcalls saw a wrong argument, %llu were off the sandbox stack",
				(unsigned long long)wrong, (unsigned long long)u->off_stack);
	if (st.delivered != u->calls || st.returned != u->calls || u->upcalls != u->calls)
		return mech_why(ctx, BENCH_FAIL, "%llu triggers, the module delivered %llu and resumed %llu, the "
				"extension ran %llu times", (unsigned long long)u->calls,
				(unsigned long long)st.delivered, (unsigned long long)st.returned,
				(unsigned long long)u->upcalls);
	return BENCH_OK;
}

void uls_kmod_teardown(struct mech_ctx *ctx)
{
	struct kmod_upcall_state *u = ctx->priv;

	if (!u)
		return;
	g_kmod_upcall = NULL;
	if (u->fd >= 0 && close(u->fd) == 0)
		u->fd = -1;
	if (u->stack && munmap(u->stack, KMOD_STACK_BYTES) == 0)
		u->stack = NULL;
	free(u);
	ctx->priv = NULL;
}
