/*
 * Transports: the four ways stock Linux can vector a guest's system call to
 * an executive. Each implements the same small interface; the guest thread
 * is always the thread that calls start().
 *
 *   sud             syscall user dispatch: SIGSYS handler in the guest (transport_sigsys.c)
 *   seccomp-trap    seccomp SECCOMP_RET_TRAP: SIGSYS handler in the guest (transport_sigsys.c)
 *   seccomp-notify  seccomp user notification: executive process (transport_notify.c)
 *   ptrace          the executive is a tracer process (transport_ptrace.c)
 *
 * guest_enter()/guest_leave() bracket the stretch where the guest runs
 * interposed (sud flips its selector byte; the others interpose for good
 * once started and leave these NULL).
 */
#pragma once
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "executive.h"
#include "mechanism.h"

/* The kernel's struct sigaction for x86-64 rt_sigaction (the sigsys transports install their own). */
struct hj_kernel_sigaction {
	void (*handler)(int, siginfo_t *, void *);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

/* One transport running for one guest thread; lives in the experiment's state (ctx->priv). */
struct hj_session {
	const struct executive *exec;
	int exec_cpu;             /* CPU of an executive process, -1 = unpinned */
	int priority;             /* its SCHED_FIFO priority, 0 = SCHED_OTHER */
	bool mlock;
	pid_t exec_pid;           /* executive process (notify, ptrace), 0 = none */
	struct hj_link *link;     /* shared with an executive process */
	bool filter_installed;    /* seccomp: irrevocable for this process */
	bool handler_installed;   /* sigsys */
	bool dispatch_on;         /* sud */
	/* sud, seccomp-trap: what the SIGSYS handler reads (transport_sigsys.c) */
	volatile char selector;   /* sud's selector byte: the kernel reads it at this address */
	bool sud;                 /* the handler flips the selector only under sud */
	pid_t guest_tid;
	struct hj_kernel_sigaction old_sigsys;
};

/* Shared between the guest and an executive process. */
struct hj_link {
	_Atomic int ready;        /* the executive is serving */
	_Atomic int failed;       /* errno of the executive's failure, 0 if none */
	_Atomic int stop;
};

struct hj_transport {
	const char *name;
	int (*probe)(struct mech_ctx *ctx);   /* NULL: always */
	int (*start)(struct mech_ctx *ctx, struct hj_session *s);
	void (*guest_enter)(struct hj_session *s);
	void (*guest_leave)(struct hj_session *s);
	void (*stop)(struct hj_session *s);   /* safe after a failed start, safe twice */
	bool separate_executive;              /* the executive is another process */
};

extern const struct hj_transport hj_transport_sud;
extern const struct hj_transport hj_transport_seccomp_trap;
extern const struct hj_transport hj_transport_seccomp_notify;
extern const struct hj_transport hj_transport_ptrace;

/* Run a passed call for real: the raw kernel result (-errno on error), cookie cleared. */
long hj_pass_syscall(const struct hj_call *c);

/* Wait for an executive process to report ready (or failure), bounded. */
int hj_wait_ready(struct mech_ctx *ctx, struct hj_session *s, unsigned timeout_ms);
/* Kill and reap an executive process. */
void hj_stop_executive(struct hj_session *s);
