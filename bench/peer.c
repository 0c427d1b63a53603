/* Peer threads and processes for mechanisms that need a partner. */
#include "peer.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rtenv.h"

struct thread_boot {
	void *(*fn)(void *);
	void *arg;
	int cpu, priority;
};

static void *thread_trampoline(void *p)
{
	struct thread_boot boot = *(struct thread_boot *)p;
	free(p);
	if (boot.cpu >= 0)
		rtenv_pin_self(boot.cpu);
	/* always explicit: SCHED_OTHER for 0, never the creator's policy by inheritance */
	rtenv_fifo_self(boot.priority);
	return boot.fn(boot.arg);
}

int peer_thread_start(struct mech_ctx *ctx, pthread_t *tid, void *(*fn)(void *), void *arg)
{
	struct thread_boot *boot = malloc(sizeof(*boot));
	if (!boot)
		return ENOMEM;
	boot->fn = fn;
	boot->arg = arg;
	boot->cpu = ctx->peer_cpu;
	boot->priority = ctx->priority;
	/* The peer inherits the creator's affinity until it pins itself; that is fine. */
	int err = pthread_create(tid, NULL, thread_trampoline, boot);
	if (err)
		free(boot);
	return err;
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
		if (ctx->peer_cpu >= 0)
			rtenv_pin_self(ctx->peer_cpu);
		/* always explicit: SCHED_OTHER for 0, never the parent's policy by inheritance */
		rtenv_fifo_self(ctx->priority);
		_exit(fn(arg) & 0xff);
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
