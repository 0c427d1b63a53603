/*
 * ptrace: the executive is a tracer process (forked by the guest, then
 * attached to it with PTRACE_SEIZE). Emulated calls run under PTRACE_SYSEMU
 * (one stop per call: the kernel never runs the call, the tracer writes
 * rax); passed calls under PTRACE_SYSCALL (a stop at entry and at exit).
 *
 * The resume mode must be chosen before the next call is seen, so the
 * tracer predicts: after an emulated call it resumes with SYSEMU, after a
 * passed one with SYSCALL. A wrong guess is repaired:
 *   - emulate under SYSCALL: orig_rax = -1 at entry (the kernel skips the
 *     call), rax = the value at exit;
 *   - pass under SYSEMU (the kernel already skipped it): rewind rip over
 *     the 2-byte `syscall`, put the number back in rax, resume with
 *     SYSCALL; the guest enters the same call again, this time for real.
 * Calls without HJ_COOKIE are the guest's own business: passed, not counted.
 *
 * No PTRACE_O_EXITKILL: if the tracer dies, the kernel detaches the guest,
 * which goes on; stop() kills the tracer.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "peer.h"
#include "transport.h"

#define SEIZE_RETRIES 1000
#define SYSCALL_INSN_BYTES 2

enum pending { PEND_NONE, PEND_PASS, PEND_EMULATE };
enum replay { REPLAY_NONE, REPLAY_ARMED, REPLAY_RUNNING };

struct tracer {
	pid_t guest;
	const struct executive *exec;
	struct hj_link *link;
	enum __ptrace_request mode;   /* how the guest was last resumed */
	enum pending pending;         /* what the exit stop must finish */
	enum replay replay;
	long pending_ret;
	struct hj_call call;          /* the interposed call in flight */
	bool interposed;              /* call carries the cookie */
};

static int read_tracee(const struct hj_call *c, uintptr_t addr, void *buf, size_t len)
{
	unsigned char *out = buf;
	for (size_t done = 0; done < len; done += sizeof(long)) {
		errno = 0;
		long word = ptrace(PTRACE_PEEKDATA, c->tid, (void *)(addr + done), NULL);
		if (errno)
			return -1;
		size_t n = len - done < sizeof(long) ? len - done : sizeof(long);
		memcpy(out + done, &word, n);
	}
	return 0;
}

static int poke_reg(struct tracer *t, size_t offset, long value)
{
	return ptrace(PTRACE_POKEUSER, t->guest, (void *)offset, (void *)value) == 0 ? 0 : errno;
}

static int resume(struct tracer *t, enum __ptrace_request mode, int sig)
{
	t->mode = mode;
	if (ptrace(mode, t->guest, NULL, (void *)(long)sig) != 0)
		return errno == ESRCH ? 0 : errno;   /* ESRCH: the guest died meanwhile */
	return 0;
}

/* Under SYSEMU the kernel skipped the call: make the guest issue it again, traced. */
static int replay_for_real(struct tracer *t)
{
	struct user_regs_struct regs;
	if (ptrace(PTRACE_GETREGS, t->guest, NULL, &regs) != 0)
		return errno;
	regs.rax = regs.orig_rax;
	regs.rip -= SYSCALL_INSN_BYTES;
	if (ptrace(PTRACE_SETREGS, t->guest, NULL, &regs) != 0)
		return errno;
	t->replay = REPLAY_ARMED;
	return resume(t, PTRACE_SYSCALL, 0);
}

static int on_entry(struct tracer *t, const struct __ptrace_syscall_info *info)
{
	if (t->replay == REPLAY_ARMED) {   /* the replayed call, entering for real */
		t->replay = REPLAY_RUNNING;
		return resume(t, PTRACE_SYSCALL, 0);
	}
	struct hj_call *c = &t->call;
	*c = (struct hj_call){ .nr = (long)info->entry.nr, .tid = t->guest, .read_guest = read_tracee };
	for (int i = 0; i < 6; i++)
		c->args[i] = (long)info->entry.args[i];
	t->interposed = c->args[5] == HJ_COOKIE;

	long ret = -ENOSYS;
	enum hj_verdict v = t->interposed ? hj_exec_decide(t->exec, c, &ret) : HJ_PASS;
	if (v == HJ_BLOCK) {
		ret = t->exec->block(t->exec->state, c);
		v = HJ_EMULATE;
	}
	if (t->mode == PTRACE_SYSEMU) {
		if (v == HJ_PASS) {
			t->pending = PEND_PASS;
			return replay_for_real(t);
		}
		int err = poke_reg(t, offsetof(struct user_regs_struct, rax), ret);
		return err ? err : resume(t, PTRACE_SYSEMU, 0);
	}
	if (v == HJ_EMULATE) {
		int err = poke_reg(t, offsetof(struct user_regs_struct, orig_rax), -1);
		if (err)
			return err;
		t->pending = PEND_EMULATE;
		t->pending_ret = ret;
	} else {
		t->pending = PEND_PASS;
	}
	return resume(t, PTRACE_SYSCALL, 0);
}

static int on_exit_stop(struct tracer *t, const struct __ptrace_syscall_info *info)
{
	if (t->replay == REPLAY_ARMED)   /* exit of the skipped call, before the replay */
		return resume(t, PTRACE_SYSCALL, 0);
	enum __ptrace_request next = PTRACE_SYSCALL;
	if (t->pending == PEND_EMULATE) {
		int err = poke_reg(t, offsetof(struct user_regs_struct, rax), t->pending_ret);
		if (err)
			return err;
		next = PTRACE_SYSEMU;   /* predict: the next call is emulated too */
	} else if (t->pending == PEND_PASS && t->interposed) {
		hj_exec_returned(t->exec, &t->call, (long)info->exit.rval);
	}
	t->pending = PEND_NONE;
	t->replay = REPLAY_NONE;
	return resume(t, next, 0);
}

static int on_syscall_stop(struct tracer *t)
{
	struct __ptrace_syscall_info info;
	if (ptrace(PTRACE_GET_SYSCALL_INFO, t->guest, (void *)sizeof(info), &info) <= 0)
		return errno;
	if (info.op == PTRACE_SYSCALL_INFO_ENTRY)
		return on_entry(t, &info);
	if (info.op == PTRACE_SYSCALL_INFO_EXIT)
		return on_exit_stop(t, &info);
	return resume(t, t->mode, 0);
}

static int attach(struct tracer *t)
{
	for (int i = 0; ptrace(PTRACE_SEIZE, t->guest, NULL, (void *)(long)PTRACE_O_TRACESYSGOOD) != 0; i++) {
		if (errno != EPERM || i >= SEIZE_RETRIES)
			return errno;
		usleep(1000);   /* the guest has not yet named us its tracer (PR_SET_PTRACER) */
	}
	if (ptrace(PTRACE_INTERRUPT, t->guest, NULL, NULL) != 0)
		return errno;
	int status;
	while (waitpid(t->guest, &status, __WALL) < 0)
		if (errno != EINTR)
			return errno;
	if (!WIFSTOPPED(status))
		return ESRCH;
	t->mode = PTRACE_SYSCALL;
	atomic_store(&t->link->ready, 1);
	return resume(t, PTRACE_SYSCALL, 0);
}

static int tracer_main(void *arg)
{
	struct tracer *t = arg;
	int err = attach(t);
	if (err) {
		atomic_store(&t->link->failed, err);
		return 1;
	}
	for (;;) {
		int status;
		if (waitpid(t->guest, &status, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			return errno == ECHILD ? 0 : 1;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return 0;
		if (!WIFSTOPPED(status))
			continue;
		int sig = WSTOPSIG(status);
		if (sig == (SIGTRAP | 0x80))
			err = on_syscall_stop(t);
		else if (status >> 16)   /* an event stop (group stop under SEIZE): no signal to deliver */
			err = resume(t, t->mode, 0);
		else                     /* a signal for the guest: deliver it */
			err = resume(t, t->mode, sig);
		if (err) {
			t->exec->count->last_error = err;
			return 1;
		}
	}
}

static int ptrace_start(struct mech_ctx *ctx, struct hj_session *s)
{
	struct mech_ctx pctx = *ctx;
	pctx.peer_cpu = s->exec_cpu;
	pctx.priority = s->priority;
	if (gettid() != getpid())
		return mech_why(ctx, BENCH_FAIL, "the ptrace guest must be the case's main thread");
	/* on our stack: the forked tracer runs on its own copy of it */
	struct tracer tr = { .guest = getpid(), .exec = s->exec, .link = s->link };
	int err = peer_process_start(&pctx, &s->exec_pid, tracer_main, &tr);
	if (err)
		return mech_why(ctx, BENCH_FAIL, "starting the tracer: %s", strerror(err));
	/* Yama (if present) lets only a named tracer attach; EINVAL: no Yama, nothing to do */
	if (prctl(PR_SET_PTRACER, (unsigned long)s->exec_pid, 0, 0, 0) != 0 && errno != EINVAL)
		return mech_why_errno(ctx, BENCH_FAIL, "PR_SET_PTRACER");
	int rc = hj_wait_ready(ctx, s, PEER_READY_TIMEOUT_MS);
	if (rc != BENCH_OK && atomic_load(&s->link->failed) == EPERM)
		return mech_why(ctx, BENCH_SKIP, "ptrace attach not permitted here (EPERM)");
	return rc;
}

const struct hj_transport hj_transport_ptrace = {
	.name = "ptrace",
	.start = ptrace_start,
	.stop = hj_stop_executive,
	.separate_executive = true,
};
