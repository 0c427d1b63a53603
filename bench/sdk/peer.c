/* Peer threads and processes for mechanisms that need a partner. */
#include "peer.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


struct thread_boot {
	void *(*fn)(void *);
	void *arg;
};

static void *thread_trampoline(void *p)
{
	struct thread_boot boot = *(struct thread_boot *)p;
	free(p);
	return boot.fn(boot.arg);
}

/*
 * Affinity and scheduling are set in the thread attributes, so the peer
 * never runs (not even its first instruction) on the creator's CPU: a
 * SCHED_FIFO creator spinning until the peer is ready would starve it there.
 */
int peer_thread_start(struct mech_ctx *ctx, pthread_t *tid, void *(*fn)(void *), void *arg)
{
	struct thread_boot *boot = malloc(sizeof(*boot));
	if (!boot)
		return ENOMEM;
	boot->fn = fn;
	boot->arg = arg;
	pthread_attr_t attr;
	int err = pthread_attr_init(&attr);
	if (err) {
		free(boot);
		return err;
	}
	struct sched_param sp = { .sched_priority = ctx->priority > 0 ? ctx->priority : 0 };
	err = pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
	if (!err)
		err = pthread_attr_setschedpolicy(&attr, ctx->priority > 0 ? SCHED_FIFO : SCHED_OTHER);
	if (!err)
		err = pthread_attr_setschedparam(&attr, &sp);
	if (!err && ctx->peer_cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(ctx->peer_cpu, &set);
		err = pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	if (!err)
		err = pthread_create(tid, &attr, thread_trampoline, boot);
	pthread_attr_destroy(&attr);
	if (err)
		free(boot);
	return err;
}

/* Place a process on the peer CPU with the case's policy; used from both sides of fork. */
static int place_process(pid_t pid, const struct mech_ctx *ctx)
{
	if (ctx->peer_cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(ctx->peer_cpu, &set);
		if (sched_setaffinity(pid, sizeof(set), &set) != 0)
			return errno;
	}
	/* always explicit: SCHED_OTHER for 0, never the parent's policy by inheritance */
	struct sched_param sp = { .sched_priority = ctx->priority > 0 ? ctx->priority : 0 };
	if (sched_setscheduler(pid, ctx->priority > 0 ? SCHED_FIFO : SCHED_OTHER, &sp) != 0)
		return errno;
	return 0;
}

int peer_process_start(struct mech_ctx *ctx, pid_t *pid, int (*fn)(void *), void *arg)
{
	pid_t parent = getpid();
	pid_t p = fork();
	if (p < 0)
		return errno;
	if (p == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		/* mlockall is not inherited across fork */
		if (ctx->mlock)
			mlockall(MCL_CURRENT | MCL_FUTURE);
		if (place_process(0, ctx) != 0)
			_exit(126);
		_exit(fn(arg) & 0xff);
	}
	/*
	 * Also from the parent, at once: the child may not get the CPU to place
	 * itself while a SCHED_FIFO parent spins there.
	 */
	int err = place_process(p, ctx);
	if (err && err != ESRCH) {   /* ESRCH: it already ran and exited */
		kill(p, SIGKILL);
		waitpid(p, NULL, 0);
		return err;
	}
	*pid = p;
	return 0;
}

int peer_process_reap(pid_t pid, unsigned timeout_ms)
{
	int status;
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd >= 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int r = poll(&pfd, 1, (int)timeout_ms);
		close(fd);
		if (r <= 0)
			kill(pid, SIGKILL);
	} else {
		kill(pid, SIGKILL);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct int_boot {
	int (*fn)(void *);
	void *arg;
};

static void *int_trampoline(void *p)
{
	struct int_boot boot = *(struct int_boot *)p;
	free(p);
	return (void *)(intptr_t)boot.fn(boot.arg);
}

/* The watcher: sleeps until the peer process ends; an abnormal end before peer_stop() ends the case. */
static void *watch_peer(void *arg)
{
	struct peer *p = arg;
	struct pollfd pfd = { .fd = p->pidfd, .events = POLLIN };
	while (poll(&pfd, 1, -1) < 0)   /* a cancellation point: peer_stop() cancels us */
		if (errno != EINTR)
			return NULL;
	siginfo_t info;
	memset(&info, 0, sizeof(info));
	/* WNOWAIT: peer_stop() still reaps it */
	if (waitid(P_PID, (id_t)p->pid, &info, WEXITED | WNOWAIT) != 0)
		return NULL;
	if (info.si_code == CLD_EXITED && info.si_status == 0)
		return NULL;   /* it finished its work: the mechanism sees the rest */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	if (info.si_code == CLD_EXITED)
		mech_abort(p->ctx, BENCH_FAIL, "peer process %d exited with status %d while the case ran", (int)p->pid,
			   info.si_status);
	mech_abort(p->ctx, BENCH_FAIL, "peer process %d exited (signal %d) while the case ran", (int)p->pid,
		   info.si_status);
}

static void start_watching(struct mech_ctx *ctx, struct peer *p)
{
	p->ctx = ctx;
	p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	if (p->pidfd < 0)
		return;   /* an old kernel: the case's timeout stays the bound */
	p->watching = pthread_create(&p->watcher, NULL, watch_peer, p) == 0;
	if (!p->watching) {
		close(p->pidfd);
		p->pidfd = -1;
	}
}

static void stop_watching(struct peer *p)
{
	if (p->watching) {
		pthread_cancel(p->watcher);
		pthread_join(p->watcher, NULL);
		p->watching = false;
	}
	if (p->pidfd >= 0)
		close(p->pidfd);
	p->pidfd = -1;
}

int peer_start(struct mech_ctx *ctx, struct peer *p, bool process, int cpu, int (*fn)(void *), void *arg)
{
	struct mech_ctx placed = *ctx;
	placed.peer_cpu = cpu;
	memset(p, 0, sizeof(*p));
	p->process = process;
	int err;
	if (process) {
		err = peer_process_start(&placed, &p->pid, fn, arg);
	} else {
		struct int_boot *boot = malloc(sizeof(*boot));
		if (!boot)
			return ENOMEM;
		boot->fn = fn;
		boot->arg = arg;
		err = peer_thread_start(&placed, &p->tid, int_trampoline, boot);
		if (err)
			free(boot);
	}
	p->started = err == 0;
	p->pidfd = -1;
	if (p->started && process)
		start_watching(ctx, p);
	return err;
}

int peer_start_or_fail(struct mech_ctx *ctx, struct peer *p, bool process, int cpu, int (*fn)(void *), void *arg)
{
	int err = peer_start(ctx, p, process, cpu, fn, arg);
	if (err) {
		errno = err;
		return mech_why_errno(ctx, BENCH_FAIL, "cannot start the peer");
	}
	return BENCH_OK;
}

int peer_stop(struct peer *p, unsigned timeout_ms)
{
	if (!p->started)
		return 0;
	p->started = false;
	if (p->process) {
		stop_watching(p);   /* from here its end is expected */
		return peer_process_reap(p->pid, timeout_ms);
	}
	void *ret = NULL;
	if (pthread_join(p->tid, &ret) != 0)
		return -1;
	return (int)(intptr_t)ret;
}

void *peer_shared_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0, len);
	return p;
}

void peer_shared_free(void *p, size_t len)
{
	if (p)
		munmap(p, len);
}
