/*
 * Helpers for mechanisms that need a peer: a thread or a forked process
 * pinned to the peer CPU with the case's priority, and memory shared across
 * fork for timestamps and flags.
 */
#pragma once
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "mechanism.h"

/*
 * How long a mechanism waits for a peer to say it is ready, and for a peer
 * told to stop to exit before it is killed: the same for every mechanism.
 */
#define PEER_READY_TIMEOUT_MS 5000
#define PEER_REAP_TIMEOUT_MS 2000

/* Start fn(arg) on a new thread pinned to ctx->peer_cpu at ctx->priority. */
int peer_thread_start(struct mech_ctx *ctx, pthread_t *tid, void *(*fn)(void *), void *arg);
/*
 * Fork a peer process pinned to ctx->peer_cpu at ctx->priority that runs
 * fn(arg) and exits with its return value. It dies with its parent.
 */
int peer_process_start(struct mech_ctx *ctx, pid_t *pid, int (*fn)(void *), void *arg);
/* Wait for a peer process for at most timeout_ms, then SIGKILL it. Returns exit status or -1. */
int peer_process_reap(pid_t pid, unsigned timeout_ms);
/*
 * A peer that is either a thread or a process, started and stopped the same
 * way: mechanisms with thread and process variants keep one struct peer.
 */
struct peer {
	bool process;
	bool started;
	pthread_t tid;
	pid_t pid;
	/*
	 * A process peer is watched (pidfd) from a sleeping thread of the case:
	 * if it dies of a signal or exits non-zero before peer_stop(), the case
	 * ends at once with "fail: peer process exited (signal 9)" instead of
	 * waiting for its timeout.
	 */
	struct mech_ctx *ctx;
	int pidfd;
	bool watching;
	pthread_t watcher;
};

/* Start fn(arg) on `cpu` (-1: unpinned) at ctx->priority, as a thread or a forked process. */
int peer_start(struct mech_ctx *ctx, struct peer *p, bool process, int cpu, int (*fn)(void *), void *arg);
/*
 * peer_start() for a mechanism's setup: BENCH_OK, or BENCH_FAIL with
 * "cannot start the peer: REASON" in ctx->why.
 */
int peer_start_or_fail(struct mech_ctx *ctx, struct peer *p, bool process, int cpu, int (*fn)(void *), void *arg);
/*
 * Wait for the peer to end, after the caller told it to stop: a thread is
 * joined, a process reaped (and killed after timeout_ms). Safe twice.
 * Returns the peer's exit value (128 + N when signal N ended a process),
 * or -1 when it could not be waited for.
 */
int peer_stop(struct peer *p, unsigned timeout_ms);

/* Anonymous shared memory (MAP_SHARED), zeroed and prefaulted; NULL on failure. */
void *peer_shared_alloc(size_t len);
void peer_shared_free(void *p, size_t len);
