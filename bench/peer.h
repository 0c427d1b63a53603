/*
 * Helpers for mechanisms that need a peer: a thread or a forked process
 * pinned to the peer CPU with the case's priority, and memory shared across
 * fork for timestamps and flags.
 */
#pragma once
#include <pthread.h>
#include <stddef.h>
#include <sys/types.h>
#include "mechanism.h"

/* Start fn(arg) on a new thread pinned to ctx->peer_cpu at ctx->priority. */
int peer_thread_start(struct mech_ctx *ctx, pthread_t *tid, void *(*fn)(void *), void *arg);
/*
 * Fork a peer process pinned to ctx->peer_cpu at ctx->priority that runs
 * fn(arg) and exits with its return value. It dies with its parent.
 */
int peer_process_start(struct mech_ctx *ctx, pid_t *pid, int (*fn)(void *), void *arg);
/* Wait for a peer process for at most timeout_ms, then SIGKILL it. Returns exit status or -1. */
int peer_process_reap(pid_t pid, unsigned timeout_ms);
/* Anonymous shared memory (MAP_SHARED), zeroed and prefaulted; NULL on failure. */
void *peer_shared_alloc(size_t len);
void peer_shared_free(void *p, size_t len);
