/*
 * kmod: the Hijack transport of the gapbench_hijack module (kmods/), the
 * paper's own shape: the kernel holds the guest's system call and hands it
 * to an executive process blocked in read() on /dev/gapbench_hijack; the
 * executive's write() of its verdict releases it. No seccomp filter, no
 * signal, no tracer: a kprobe on the kernel's system-call dispatch
 * (x64_sys_call) diverts the chosen numbers of the attached process.
 *
 * The executive is forked from the guest and attaches it (its pid), choosing
 * the round trip's calls (getppid, getpid, write). A diverted call without
 * HJ_COOKIE in argument 5 is one of the case process's own (the harness's
 * writes): passed at once, uncounted. The executive's file closes when it is
 * killed: the module then runs held calls as Linux would and detaches the
 * guest, so a dead executive never leaves the guest blocked.
 *
 * Without the module the variant never gets here: it declares
 * MECH_NEEDS_KMOD and the harness reports "skip: module gapbench_hijack not
 * loaded".
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../../kmods/gapbench_hijack/gapbench_hijack.h"
#include "hijack.h"
#include "hijack_kmod.h"
#include "peer.h"
#include "transport.h"

#define KMOD_POLL_MS 100

struct kmod_exec {
	const struct executive *exec;
	struct hj_link *link;
	pid_t guest;
};

/* The held call keeps the guest stopped in the kernel: its memory is stable until we answer. */
static int read_guest(const struct hj_call *c, uintptr_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)addr, .iov_len = len };

	return process_vm_readv(c->tid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -1;
}

/* One held call: decide and answer. Returns 0 or an errno that ends the executive. */
static int serve_one(struct kmod_exec *ke, int fd)
{
	struct gbhj_call call;
	struct gbhj_reply r = { 0 };

	ssize_t n = read(fd, &call, sizeof(call));
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : errno;
	if (n != (ssize_t)sizeof(call))
		return EIO;
	r.id = call.id;
	r.action = GBHJ_PASS;
	if ((long)call.args[5] == HJ_COOKIE) {
		struct hj_call c = { .nr = call.nr, .tid = call.tid, .read_guest = read_guest };
		long ret = -ENOSYS;

		for (int i = 0; i < 6; i++)
			c.args[i] = (long)call.args[i];
		enum hj_verdict v = hj_exec_decide(ke->exec, &c, &ret);
		if (v == HJ_BLOCK)
			ret = ke->exec->block(ke->exec->state, &c);
		if (v != HJ_PASS) {
			/* the module returns an EMULATE value as it is: -errno results included */
			r.action = GBHJ_EMULATE;
			r.value = ret;
		}
	}
	if (write(fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
		return errno == ENOENT ? 0 : errno;   /* ENOENT: the guest was killed meanwhile */
	return 0;
}

static int executive_main(void *arg)
{
	struct kmod_exec *ke = arg;
	struct gbhj_syscalls m = { { 0 } };
	struct gbhj_attach a = { .pid = ke->guest };
	const long nrs[] = { SYS_getppid, SYS_getpid, SYS_write };
	int fd = open(GBHJ_DEV, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		atomic_store(&ke->link->failed, errno);
		return 1;
	}
	for (size_t i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++)
		m.mask[nrs[i] / 64] |= 1ull << (nrs[i] % 64);
	if (ioctl(fd, GBHJ_IOC_SET_SYSCALLS, &m) != 0 || ioctl(fd, GBHJ_IOC_ATTACH, &a) != 0) {
		atomic_store(&ke->link->failed, errno);
		return 1;
	}
	atomic_store(&ke->link->ready, 1);
	while (!atomic_load_explicit(&ke->link->stop, memory_order_relaxed)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, KMOD_POLL_MS);

		if (r < 0 && errno != EINTR) {
			ke->exec->count->last_error = errno;
			return 1;
		}
		if (r <= 0)
			continue;
		int err = serve_one(ke, fd);
		if (err) {
			ke->exec->count->last_error = err;
			return 1;
		}
	}
	close(fd);
	return 0;
}

static int kmod_start(struct mech_ctx *ctx, struct hj_session *s)
{
	struct mech_ctx pctx = *ctx;   /* peer.h places the peer on pctx.peer_cpu */
	pctx.peer_cpu = s->exec_cpu;
	pctx.priority = s->priority;
	/* on our stack: the forked executive runs on its own copy of it */
	struct kmod_exec ke = { .exec = s->exec, .link = s->link, .guest = getpid() };
	int err = peer_process_start(&pctx, &s->exec_pid, executive_main, &ke);
	if (err)
		return mech_why(ctx, BENCH_FAIL, "starting the executive process: %s", strerror(err));
	report_kv(ctx->report, "interposition", "gapbench_hijack: kprobe on x64_sys_call diverts the call "
		  "to the executive blocked in read() on %s", GBHJ_DEV);
	return hj_wait_ready(ctx, s, PEER_READY_TIMEOUT_MS);
}

static void kmod_stop(struct hj_session *s)
{
	hj_stop_executive(s);
}

const struct hj_transport hj_transport_kmod = {
	.name = "kmod",
	.start = kmod_start,
	.stop = kmod_stop,
	.separate_executive = true,
};

int hj_rt_setup_kmod(struct mech_ctx *ctx)
{
	return hj_rt_setup_transport(ctx, &hj_transport_kmod);
}
