/* What the transports share: running a passed call, and executive processes. */
#include "transport.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "peer.h"

long hj_pass_syscall(const struct hj_call *c)
{
	long ret;
	register long r10 __asm__("r10") = c->args[3];
	register long r8 __asm__("r8") = c->args[4];
	register long r9 __asm__("r9") = c->args[5] == HJ_COOKIE ? 0 : c->args[5];

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(c->nr), "D"(c->args[0]), "S"(c->args[1]), "d"(c->args[2]), "r"(r10), "r"(r8),
			   "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

int hj_wait_ready(struct mech_ctx *ctx, struct hj_session *s, unsigned timeout_ms)
{
	for (unsigned waited_ms = 0;; waited_ms++) {
		int failed = atomic_load(&s->link->failed);
		if (failed)
			return mech_why(ctx, BENCH_FAIL, "the executive failed to start: %s", strerror(failed));
		if (atomic_load(&s->link->ready))
			return BENCH_OK;
		if (waited_ms >= timeout_ms)
			return mech_why(ctx, BENCH_FAIL, "the executive was not ready within %u ms", timeout_ms);
		/* sleep, not spin: the executive may share our CPU at our priority */
		usleep(1000);
	}
}

void hj_stop_executive(struct hj_session *s)
{
	if (s->exec_pid > 0) {
		if (s->link)
			atomic_store(&s->link->stop, 1);
		kill(s->exec_pid, SIGKILL);   /* ESRCH: already gone, which is fine */
		peer_process_reap(s->exec_pid, PEER_REAP_TIMEOUT_MS);
		s->exec_pid = 0;
	}
}
