/*
 * signal: the handler and the peers, shared by the sender (signal.c).
 *
 * Fences. The sender reads tsc_start() (lfence; rdtsc) just before the
 * system call: the lfence keeps the read from running ahead of the
 * previous round's work, and the system call starts no earlier than the
 * read, give or take a few cycles. The handler reads tsc_end_cpu()
 * (rdtscp; lfence) as its first instruction: rdtscp waits for everything
 * before it, so the stamp cannot be taken before the kernel's return into
 * the handler is complete, and it names the CPU the handler ran on, which
 * setup checks against the requested placement.
 *
 * Peers (thread, process) keep the signal blocked except inside
 * sigsuspend(), so a signal can only land while they wait. A signal that
 * arrives before the peer really slept (it had published "ready" but not
 * yet entered the kernel) measures a different path: the peer's
 * voluntary-context-switch count tells, and the sender does not sample
 * such rounds but counts them ("peer_awake_rounds").
 */
#pragma once
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#define SIG_USED SIGUSR1

/* Shared with the handler and, for `process`, across fork. */
struct sig_shared {
	_Atomic uint64_t stamp_cycles;  /* TSC at the handler's first instruction */
	_Atomic uint32_t handler_cpu;
	_Atomic uint32_t delivered;     /* bumped by the handler */
	_Atomic uint32_t round;         /* futex word: bumped when the peer waits again */
	_Atomic uint32_t slept;         /* the peer really slept in the last round */
	_Atomic uint32_t stop;
	_Atomic int32_t tid;            /* the peer's thread id */
	_Atomic int32_t err;            /* errno of a failed peer */
	_Atomic int32_t mlock_err;      /* errno of the peer process's mlockall, 0 = locked */
	uint32_t wake_main;             /* the sender blocks: FUTEX_WAKE it */
};

/* The page the handler stamps (one case per process); NULL to detach. */
void sig_attach(struct sig_shared *sh);
int sig_install_handler(struct sigaction *old);
/* A shared (not FUTEX_PRIVATE) futex call on a word of struct sig_shared. */
long sig_futex(_Atomic uint32_t *word, int op, uint32_t val, const struct timespec *ts);

/* Peer entry points for peer_thread_start() / peer_process_start(). */
void *sig_peer_thread(void *sh);
int sig_peer_process(void *sh);
