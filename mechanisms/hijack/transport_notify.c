/*
 * seccomp-notify: the executive is another process reading the listener fd
 * of a SECCOMP_RET_USER_NOTIF filter, so every interposed call is an
 * address-space switch away (as the paper's executive region was).
 *
 * The guest installs the filter (getting the listener fd), forks the
 * executive, and closes its own copy of the fd: if the executive dies, the
 * kernel fails the guest's interposed calls with ENOSYS instead of leaving
 * it blocked forever.
 *
 * The man page's rule: anything the executive reads from the target's
 * memory may belong to another process by the time it is read (the target
 * died, its pid was reused); SECCOMP_IOCTL_NOTIF_ID_VALID after the read
 * says whether the notification, and so the read, is still good.
 */
#include <errno.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "peer.h"
#include "seccomp_filter.h"
#include "transport.h"

struct notify_exec {
	int fd;
	const struct executive *exec;
	struct hj_link *link;
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	struct seccomp_notif_sizes sizes;
};

struct notify_call {
	int fd;
	uint64_t id;
};

static int read_target(const struct hj_call *c, uintptr_t addr, void *buf, size_t len)
{
	const struct notify_call *nc = c->transport;
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)addr, .iov_len = len };

	if (process_vm_readv(c->tid, &local, 1, &remote, 1, 0) != (ssize_t)len)
		return -1;
	/* Only now may what we read be trusted: the call is still the target's. */
	uint64_t id = nc->id;
	if (ioctl(nc->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) != 0)
		return -1;
	return 0;
}

/* One notification: receive, decide, answer. Returns 0, or an errno that ends the loop. */
static int serve_one(struct notify_exec *ne)
{
	memset(ne->req, 0, ne->sizes.seccomp_notif);   /* the kernel insists */
	if (ioctl(ne->fd, SECCOMP_IOCTL_NOTIF_RECV, ne->req) != 0)
		return errno == EINTR || errno == ENOENT ? 0 : errno;

	struct notify_call nc = { .fd = ne->fd, .id = ne->req->id };
	struct hj_call c = { .nr = ne->req->data.nr, .tid = (pid_t)ne->req->pid,
			     .read_guest = read_target, .transport = &nc };
	for (int i = 0; i < 6; i++)
		c.args[i] = (long)ne->req->data.args[i];

	long ret = -ENOSYS;
	enum hj_verdict v = hj_exec_decide(ne->exec, &c, &ret);
	if (v == HJ_BLOCK)
		ret = ne->exec->block(ne->exec->state, &c);

	memset(ne->resp, 0, ne->sizes.seccomp_notif_resp);
	ne->resp->id = ne->req->id;
	if (v == HJ_PASS)
		ne->resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;   /* the cookie stays: the calls we interpose ignore arg 5 */
	else if (ret < 0 && ret > -4096)
		ne->resp->error = (int)ret;
	else
		ne->resp->val = ret;
	if (ioctl(ne->fd, SECCOMP_IOCTL_NOTIF_SEND, ne->resp) != 0 && errno != ENOENT)
		return errno;   /* ENOENT: the target was interrupted or died meanwhile */
	return 0;
}

static int executive_main(void *arg)
{
	struct notify_exec *ne = arg;

	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &ne->sizes) != 0) {
		atomic_store(&ne->link->failed, errno);
		return 1;
	}
	ne->req = calloc(1, ne->sizes.seccomp_notif);
	ne->resp = calloc(1, ne->sizes.seccomp_notif_resp);
	if (!ne->req || !ne->resp) {
		atomic_store(&ne->link->failed, ENOMEM);
		return 1;
	}
	atomic_store(&ne->link->ready, 1);
	while (!atomic_load_explicit(&ne->link->stop, memory_order_relaxed)) {
		int err = serve_one(ne);
		if (err) {
			ne->exec->count->last_error = err;
			return 1;
		}
	}
	return 0;
}

static int notify_start(struct mech_ctx *ctx, struct hj_session *s)
{
	int fd = hj_seccomp_install(SECCOMP_RET_USER_NOTIF);
	if (fd < 0)
		return mech_why_errno(ctx, errno == EINVAL ? BENCH_SKIP : BENCH_FAIL,
				      "seccomp(SECCOMP_RET_USER_NOTIF, NEW_LISTENER)");
	s->filter_installed = true;

	struct mech_ctx pctx = *ctx;   /* peer.h places the peer on pctx.peer_cpu */
	pctx.peer_cpu = s->exec_cpu;
	pctx.priority = s->priority;
	/* on our stack: the forked executive runs on its own copy of it */
	struct notify_exec ne = { .fd = fd, .exec = s->exec, .link = s->link };
	int err = peer_process_start(&pctx, &s->exec_pid, executive_main, &ne);
	close(fd);   /* the executive holds the only copy now */
	if (err)
		return mech_why(ctx, BENCH_FAIL, "starting the executive process: %s", strerror(err));
	return hj_wait_ready(ctx, s, PEER_READY_TIMEOUT_MS);
}

static void notify_stop(struct hj_session *s)
{
	hj_stop_executive(s);
}

const struct hj_transport hj_transport_seccomp_notify = {
	.name = "seccomp-notify",
	.start = notify_start,
	.stop = notify_stop,
	.separate_executive = true,
};
