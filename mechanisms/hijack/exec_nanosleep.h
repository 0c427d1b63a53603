/*
 * The nanosleep executives of experiment 3 (the paper's "Hijack" and
 * "Hijack Extended"): both raise the sleeper to SCHED_FIFO so that it wins
 * the CPU from a SCHED_OTHER co-runner as soon as it wakes; Extended also
 * busy-waits requests shorter than a threshold instead of sleeping.
 * Other calls are passed.
 */
#pragma once
#include "executive.h"

/* The executive's state; in shared memory, like count, which it points to. */
struct hj_sleep_state {
	struct hj_counters *count;
	int busy_wait;              /* Hijack Extended */
	int boost_priority;         /* SCHED_FIFO priority given to the sleeper */
	int64_t threshold_ns;       /* busy-wait requests shorter than this */
	int64_t pending_ns;         /* the request being busy-waited */
	pid_t boosted_tid;          /* 0 until the first boost */
};

void hj_sleep_exec_init(struct executive *ex, struct hj_sleep_state *st, struct hj_counters *count,
			int busy_wait, int boost_priority, int64_t threshold_ns);

/* Busy-wait until CLOCK_MONOTONIC reaches deadline_ns. Pure; also used by the tests. */
void hj_busy_wait_until(int64_t deadline_ns);
int64_t hj_now_ns(void);
