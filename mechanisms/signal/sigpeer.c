/* signal: the handler and the peer side (see sigpeer.h). */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sigpeer.h"
#include "tsc.h"

/*
 * The one file-scope pointer: the handler finds the shared page (its own
 * copy of the pointer in a forked peer) here. Set in setup, cleared in
 * teardown (sig_attach).
 */
static struct sig_shared *volatile g_sh;

void sig_attach(struct sig_shared *sh)
{
	g_sh = sh;
}

static void on_signal(int sig)
{
	unsigned cpu;
	uint64_t t = tsc_end_cpu(&cpu);   /* first: see "Fences" in sigpeer.h */
	struct sig_shared *sh = g_sh;

	(void)sig;
	if (cpu == ~0u) {   /* no rdtscp: ask the kernel, after the stamp */
		int c = sched_getcpu();
		cpu = c < 0 ? ~0u : (unsigned)c;
	}
	atomic_store_explicit(&sh->stamp_cycles, t, memory_order_relaxed);
	atomic_store_explicit(&sh->handler_cpu, cpu, memory_order_relaxed);
	atomic_fetch_add_explicit(&sh->delivered, 1, memory_order_release);
}

int sig_install_handler(struct sigaction *old)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	return sigaction(SIG_USED, &sa, old);
}

long sig_futex(_Atomic uint32_t *word, int op, uint32_t val, const struct timespec *ts)
{
	/* Not FUTEX_PRIVATE: the word may live in MAP_SHARED memory across fork. */
	return syscall(SYS_futex, word, op, val, ts, NULL, 0);
}

static long voluntary_switches(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru))
		return -1;
	return ru.ru_nvcsw;
}

static int peer_fail(struct sig_shared *sh, int err)
{
	atomic_store(&sh->err, err ? err : EIO);
	/* Wake the sender so that it notices now, not at its bound. */
	atomic_fetch_add_explicit(&sh->round, 1, memory_order_release);
	sig_futex(&sh->round, FUTEX_WAKE, 1, NULL);
	return 1;
}

static int peer_loop(struct sig_shared *sh)
{
	sigset_t block, wait_mask;

	sigemptyset(&block);
	sigaddset(&block, SIG_USED);
	int err = pthread_sigmask(SIG_BLOCK, &block, &wait_mask);
	if (err)
		return peer_fail(sh, err);
	sigdelset(&wait_mask, SIG_USED);
	atomic_store(&sh->tid, gettid());

	/* The sender always blocks for the first round: see start_peer() in signal.c. */
	for (bool wake = true;; wake = sh->wake_main) {
		long before = voluntary_switches();
		if (before < 0)
			return peer_fail(sh, errno);
		atomic_fetch_add_explicit(&sh->round, 1, memory_order_release);
		if (wake && sig_futex(&sh->round, FUTEX_WAKE, 1, NULL) < 0)
			return peer_fail(sh, errno);
		if (sigsuspend(&wait_mask) != -1 || errno != EINTR)
			return peer_fail(sh, errno);
		if (atomic_load(&sh->stop))
			return 0;
		long after = voluntary_switches();
		if (after < 0)
			return peer_fail(sh, errno);
		atomic_store_explicit(&sh->slept, after > before, memory_order_relaxed);
	}
}

void *sig_peer_thread(void *arg)
{
	peer_loop(arg);
	return NULL;
}

int sig_peer_process(void *arg)
{
	struct sig_shared *sh = arg;
	struct sigaction old;

	/* Locks are not inherited across fork; a failure is reported, not fatal. */
	if (mlockall(MCL_CURRENT | MCL_FUTURE))
		atomic_store(&sh->mlock_err, errno);
	if (sig_install_handler(&old))
		return peer_fail(sh, errno);
	return peer_loop(sh);
}
