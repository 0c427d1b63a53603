/*
 * The real-time environment of a measuring process: requested, applied, and
 * read back. Every item records what was asked, what the kernel reports now,
 * and the error if setting it failed; nothing is assumed.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rtenv_request {
	bool mlock;            /* mlockall(MCL_CURRENT | MCL_FUTURE) */
	int priority;          /* SCHED_FIFO priority; 0 = leave SCHED_OTHER */
	int cpu;               /* pin to this CPU; -1 = leave affinity */
	bool dma_latency;      /* hold /dev/cpu_dma_latency open at 0 us */
	int64_t timer_slack_ns;/* PR_SET_TIMERSLACK; < 0 = leave */
};

struct rtenv_item {
	bool requested;
	bool ok;               /* read back equals the request */
	int err;               /* errno of the failed call, 0 if none */
	int64_t got;           /* value read back */
};

struct rtenv_state {
	struct rtenv_item mlock;        /* got: VmLck kB from /proc/self/status */
	struct rtenv_item priority;     /* got: sched_priority, -1 when not FIFO */
	struct rtenv_item cpu;          /* got: the single CPU allowed, -1 if several */
	struct rtenv_item dma_latency;  /* got: value read back from the device, us */
	struct rtenv_item timer_slack;  /* got: PR_GET_TIMERSLACK, ns */
	int dma_fd;                     /* held open while the case runs */
};

/* Apply what can be applied; never fails as a whole: read the items. */
void rtenv_apply(const struct rtenv_request *req, struct rtenv_state *st);
/*
 * What of the request could not be set, and how to grant it: "SCHED_FIFO
 * priority 80 (Operation not permitted: run as root, or grant CAP_SYS_NICE
 * or an rtprio limit, ulimit -r)"; items joined by "; ". Returns the number
 * of refused items (0: everything requested is in place).
 */
int rtenv_refused(const struct rtenv_request *req, const struct rtenv_state *st, char *why, size_t len);
/* Close the cpu_dma_latency fd (restoring the kernel's default). */
void rtenv_release(struct rtenv_state *st);
/* Pin and prioritise the calling thread (peers use this). Returns 0 or errno. */
int rtenv_pin_self(int cpu);
int rtenv_fifo_self(int priority);
