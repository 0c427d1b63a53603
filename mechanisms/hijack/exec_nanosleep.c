/* The nanosleep executives (Hijack, Hijack Extended): see exec_nanosleep.h. */
#include "exec_nanosleep.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>

int64_t hj_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);   /* vDSO: no system call to interpose */
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void hj_busy_wait_until(int64_t deadline_ns)
{
	while (hj_now_ns() < deadline_ns)
		__builtin_ia32_pause();
}

/* Give the sleeper preference when it wakes: SCHED_FIFO, kept until the case ends. */
static void boost(struct hj_sleep_state *st, struct hj_counters *count, pid_t tid)
{
	if (st->boosted_tid == tid)
		return;
	struct sched_param sp = { .sched_priority = st->boost_priority };
	if (sched_setscheduler(tid, SCHED_FIFO, &sp) != 0) {
		count->last_error = errno;
		return;
	}
	st->boosted_tid = tid;
	count->boosts++;
}

static enum hj_verdict sleep_on_syscall(void *state, const struct hj_call *c, long *ret)
{
	struct hj_sleep_state *st = state;
	struct timespec req;

	(void)ret;
	if (c->nr != SYS_nanosleep || c->read_guest(c, (uintptr_t)c->args[0], &req, sizeof(req)) != 0)
		return HJ_PASS;
	boost(st, st->count, c->tid);
	int64_t req_ns = (int64_t)req.tv_sec * 1000000000 + req.tv_nsec;
	if (st->busy_wait && req_ns < st->threshold_ns) {
		st->pending_ns = req_ns;
		return HJ_BLOCK;
	}
	return HJ_PASS;
}

static long sleep_block(void *state, const struct hj_call *c)
{
	struct hj_sleep_state *st = state;

	(void)c;
	hj_busy_wait_until(hj_now_ns() + st->pending_ns);
	st->count->busy_waits++;
	return 0;
}

void hj_sleep_exec_init(struct executive *ex, struct hj_sleep_state *st, struct hj_counters *count,
			int busy_wait, int boost_priority, int64_t threshold_ns)
{
	memset(st, 0, sizeof(*st));
	st->count = count;
	st->busy_wait = busy_wait;
	st->boost_priority = boost_priority;
	st->threshold_ns = threshold_ns;
	*ex = (struct executive){
		.name = busy_wait ? "hijack-extended" : "hijack",
		.state = st,
		.count = count,
		.on_syscall = sleep_on_syscall,
		.block = sleep_block,
	};
}
