/*
 * The two in-guest transports: the executive is a SIGSYS handler running in
 * the guest's own address space (the paper's executive region mapped into
 * the guest, without the address-space switch).
 *
 *   sud           PR_SET_SYSCALL_USER_DISPATCH: every system call the thread
 *                 makes from outside the "gate" region while the selector
 *                 byte says BLOCK raises SIGSYS instead of running.
 *   seccomp-trap  a seccomp filter returns SECCOMP_RET_TRAP for calls that
 *                 carry HJ_COOKIE.
 *
 * Either way the kernel skips the call and delivers SIGSYS with the number
 * in si_syscall and the arguments in the saved registers; the handler asks
 * the executive, runs a passed call itself, and writes the result into the
 * saved rax.
 *
 * sud and the return from the handler: rt_sigreturn is a system call too,
 * and glibc's restorer lies outside any region we could allow. So the
 * handler is installed with our own restorer, which sits inside the gate
 * region (always allowed); the handler flips the selector to ALLOW on entry
 * (so the executive may make any call) and back to BLOCK just before
 * returning.
 */
#include <errno.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "seccomp_filter.h"
#include "transport.h"

#define HJ_STR_(x) #x
#define HJ_STR(x) HJ_STR_(x)

/* The gate: the only code SUD always lets make system calls. */
__asm__(".pushsection .text.hj_gate,\"ax\",@progbits\n"
	".globl hj_gate_begin\n.hidden hj_gate_begin\n"
	".globl hj_gate_restorer\n.hidden hj_gate_restorer\n"
	".globl hj_gate_end\n.hidden hj_gate_end\n"
	"hj_gate_begin:\n"
	"hj_gate_restorer:\n"
	"\txorl %r9d, %r9d\n"   /* r9 may still hold the cookie: rt_sigreturn must not match the filter */
	"\tmovl $" HJ_STR(SYS_rt_sigreturn) ", %eax\n"
	"\tsyscall\n"
	"\tud2\n"   /* the kernel checks the address after `syscall`: keep it inside */
	"hj_gate_end:\n"
	".popsection\n");
extern const char hj_gate_begin[], hj_gate_end[];
extern void hj_gate_restorer(void);

#define KSA_RESTORER 0x04000000ul   /* SA_RESTORER */

/*
 * The one file-scope pointer: the SIGSYS handler finds its session (which
 * lives in the experiment's state, ctx->priv) here. Set when the handler is
 * installed, cleared when the session stops.
 */
static struct hj_session *volatile g_session;

static int read_own_memory(const struct hj_call *c, uintptr_t addr, void *buf, size_t len)
{
	(void)c;
	memcpy(buf, (const void *)addr, len);
	return 0;
}

static void sigsys_handler(int sig, siginfo_t *info, void *ucv)
{
	struct hj_session *s = g_session;
	greg_t *r = ((ucontext_t *)ucv)->uc_mcontext.gregs;

	(void)sig;
	if (!s) {   /* seccomp-trap's filter outlives its session: a stray call fails */
		r[REG_RAX] = -ENOSYS;
		return;
	}
	if (s->sud)
		s->selector = SYSCALL_DISPATCH_FILTER_ALLOW;
	int saved_errno = errno;
	const struct executive *ex = s->exec;
	struct hj_call c = {
		.nr = info->si_syscall,
		.args = { r[REG_RDI], r[REG_RSI], r[REG_RDX], r[REG_R10], r[REG_R8], r[REG_R9] },
		.tid = s->guest_tid,
		.read_guest = read_own_memory,
	};
	long ret = -ENOSYS;

	switch (hj_exec_decide(ex, &c, &ret)) {
	case HJ_PASS:
		ret = hj_pass_syscall(&c);
		hj_exec_returned(ex, &c, ret);
		break;
	case HJ_EMULATE:
		break;
	case HJ_BLOCK:
		ret = ex->block(ex->state, &c);
		break;
	}
	r[REG_RAX] = ret;
	errno = saved_errno;
	if (s->sud)
		s->selector = SYSCALL_DISPATCH_FILTER_BLOCK;
}

static int install_handler(struct mech_ctx *ctx, struct hj_session *s)
{
	struct hj_kernel_sigaction act = {
		.handler = sigsys_handler,
		.flags = SA_SIGINFO | KSA_RESTORER,
		.restorer = hj_gate_restorer,
		.mask = 0,
	};

	s->guest_tid = gettid();
	g_session = s;
	if (syscall(SYS_rt_sigaction, SIGSYS, &act, &s->old_sigsys, sizeof(act.mask)) != 0) {
		g_session = NULL;
		return mech_why_errno(ctx, BENCH_FAIL, "rt_sigaction(SIGSYS)");
	}
	s->handler_installed = true;
	return BENCH_OK;
}

static void restore_handler(struct hj_session *s)
{
	if (s->handler_installed &&
	    syscall(SYS_rt_sigaction, SIGSYS, &s->old_sigsys, NULL, sizeof(s->old_sigsys.mask)) == 0)
		s->handler_installed = false;
}

static int sud_start(struct mech_ctx *ctx, struct hj_session *s)
{
	int rc = install_handler(ctx, s);
	if (rc)
		return rc;
	s->selector = SYSCALL_DISPATCH_FILTER_ALLOW;
	s->sud = true;
	if (prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, (unsigned long)hj_gate_begin,
		  (unsigned long)(hj_gate_end - hj_gate_begin), &s->selector) != 0) {
		int rc2 = errno == EINVAL ? BENCH_SKIP : BENCH_FAIL;
		return mech_why_errno(ctx, rc2, "PR_SET_SYSCALL_USER_DISPATCH");
	}
	s->dispatch_on = true;
	return BENCH_OK;
}

static void sud_enter(struct hj_session *s)
{
	s->selector = SYSCALL_DISPATCH_FILTER_BLOCK;
}

static void sud_leave(struct hj_session *s)
{
	s->selector = SYSCALL_DISPATCH_FILTER_ALLOW;
}

static void sud_stop(struct hj_session *s)
{
	s->selector = SYSCALL_DISPATCH_FILTER_ALLOW;
	if (s->dispatch_on && prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0, 0, 0) == 0)
		s->dispatch_on = false;
	if (!s->dispatch_on) {
		s->sud = false;
		restore_handler(s);
		if (!s->handler_installed)
			g_session = NULL;
	}
}

static int trap_start(struct mech_ctx *ctx, struct hj_session *s)
{
	int rc = install_handler(ctx, s);
	if (rc)
		return rc;
	s->sud = false;
	if (hj_seccomp_install(SECCOMP_RET_TRAP) < 0)
		return mech_why_errno(ctx, errno == EINVAL ? BENCH_SKIP : BENCH_FAIL, "seccomp(SECCOMP_RET_TRAP)");
	s->filter_installed = true;
	return BENCH_OK;
}

/*
 * The filter stays (it cannot be removed); the handler stays with it, or a
 * stray cookie call would kill us. It no longer finds a session: such a
 * call fails with ENOSYS.
 */
static void trap_stop(struct hj_session *s)
{
	if (!s->filter_installed)
		restore_handler(s);
	g_session = NULL;
}

const struct hj_transport hj_transport_sud = {
	.name = "sud",
	.start = sud_start,
	.guest_enter = sud_enter,
	.guest_leave = sud_leave,
	.stop = sud_stop,
};

const struct hj_transport hj_transport_seccomp_trap = {
	.name = "seccomp-trap",
	.start = trap_start,
	.stop = trap_stop,
};
