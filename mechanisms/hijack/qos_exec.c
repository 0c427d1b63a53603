/*
 * The token executive of experiment 4 (the paper's appendix), over
 * seccomp-notify: every task's recvfrom() is a notification; the executive
 * holds it until the policy (tokens.h) picks that task, then lets the call
 * run (CONTINUE), one packet per grant. poll() on the tasks' sockets is the
 * paper's select(): only a task with data is picked. The executive blocks
 * in poll() when nothing can be granted, so it never spins on the CPU it
 * shares with the tasks. Like the paper's executive ("execute next"), it
 * runs one task at a time: after a grant it waits until that task comes
 * back with its next read (or RUN_BOUND_NS passes) before granting again.
 */
#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exec_nanosleep.h"
#include "qos.h"

#define RUN_BOUND_NS 5000000   /* a granted task not back by then is no longer waited for */

struct pending {
	bool waiting;
	uint64_t id;
};

static int answer(int listener, uint64_t id)
{
	struct seccomp_notif_resp resp;
	memset(&resp, 0, sizeof(resp));
	resp.id = id;
	resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) != 0 && errno != ENOENT)
		return errno;
	return 0;
}

static int task_of(const struct qos_shared *sh, pid_t pid)
{
	for (int i = 0; i < QOS_TASKS; i++)
		if (atomic_load(&sh->task[i].pid) == pid)
			return i;
	return -1;
}

/* One notification: remember whose read is waiting (other calls pass at once). */
static int receive(struct qos_shared *sh, int listener, struct seccomp_notif *req, struct pending *pend,
		   int *running)
{
	memset(req, 0, sizeof(*req));
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) != 0)
		return errno == EINTR || errno == ENOENT ? 0 : errno;
	sh->notifications++;
	int i = task_of(sh, (pid_t)req->pid);
	if (i < 0 || req->data.nr != SYS_recvfrom)
		return answer(listener, req->id);
	pend[i] = (struct pending){ .waiting = true, .id = req->id };
	if (*running == i)
		*running = -1;   /* back from its packet: the CPU is the executive's to give again */
	return 0;
}

int hj_qos_executive_main(struct qos_shared *sh, int listener, const int *socks)
{
	struct seccomp_notif_sizes sizes;
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0 ||
	    sizes.seccomp_notif > sizeof(struct seccomp_notif)) {
		atomic_store(&sh->exec_failed, errno ? errno : EINVAL);
		return 1;
	}
	struct seccomp_notif req;
	struct pending pend[QOS_TASKS];
	memset(pend, 0, sizeof(pend));
	int running = -1;
	int64_t running_since = 0;
	atomic_store(&sh->exec_ready, 1);

	while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
		int64_t now = hj_now_ns();
		hj_tokens_tick(&sh->tokens, now);
		if (running >= 0 && now - running_since > RUN_BOUND_NS) {
			running = -1;
			sh->run_timeouts++;
		}
		/* select: the listener, and the sockets of waiting tasks that could be granted */
		struct pollfd fds[1 + QOS_TASKS];
		int owner[1 + QOS_TASKS];
		nfds_t n = 0;
		fds[n] = (struct pollfd){ .fd = listener, .events = POLLIN };
		owner[n++] = -1;
		for (int i = 0; i < QOS_TASKS && running < 0; i++)
			if (pend[i].waiting && hj_tokens_eligible(&sh->tokens, i)) {
				fds[n] = (struct pollfd){ .fd = socks[i], .events = POLLIN };
				owner[n++] = i;
			}
		int64_t to_refresh_ms = (sh->tokens.next_refresh_ns - now) / 1000000 + 1;
		int64_t limit_ms = running >= 0 ? RUN_BOUND_NS / 1000000 : 1000;
		int r = poll(fds, n, (int)(to_refresh_ms > limit_ms ? limit_ms : to_refresh_ms));
		if (r < 0 && errno != EINTR) {
			atomic_store(&sh->exec_failed, errno);
			return 1;
		}
		bool ready[QOS_TASKS] = { false };
		for (nfds_t k = 1; r > 0 && k < n; k++)
			if (fds[k].revents & POLLIN)
				ready[owner[k]] = true;
		if (r > 0 && (fds[0].revents & POLLIN)) {
			int err = receive(sh, listener, &req, pend, &running);
			if (err) {
				atomic_store(&sh->exec_failed, err);
				return 1;
			}
			/*
			 * The task that just came back was not in this poll: picking now would
			 * pass it over (for the best-effort task, when it is the only other one
			 * ready; fact be_grants_with_tokens counts what still slips). Poll
			 * again, with it.
			 */
			continue;
		}
		hj_tokens_tick(&sh->tokens, hj_now_ns());
		int pick = running < 0 ? hj_tokens_pick(&sh->tokens, ready) : -1;
		if (pick < 0)
			continue;
		int err = answer(listener, pend[pick].id);
		if (err) {
			atomic_store(&sh->exec_failed, err);
			return 1;
		}
		if (pick == QOS_TASKS - 1)
			for (int i = 0; i < QOS_TASKS - 1; i++)
				if (sh->t0_ns && hj_now_ns() >= sh->t0_ns + sh->task[i].start_offset_ns &&
				    hj_tokens_eligible(&sh->tokens, i)) {
					sh->be_grants_with_tokens++;
					break;
				}
		pend[pick].waiting = false;
		running = pick;
		running_since = hj_now_ns();
		hj_tokens_charge(&sh->tokens, pick);
		sh->grants[pick]++;
	}
	return 0;
}
