/*
 * A load that runs a program over and over (tar -x, make): one process of
 * its own, forked from the case and placed on the load's CPU as SCHED_OTHER,
 * prepares once (generates its input in a scratch folder) and then repeats
 * rounds until roundloop_stop(). It is a child subreaper: the programs it
 * starts and their children (bzip2 under tar, gcc under make) are killed
 * and reaped with it. Each program gets the scratch's keep_fd, so the
 * scratch's janitor waits for all of them on any exit path.
 */
#pragma once
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "report.h"

enum roundloop_state {
	ROUNDLOOP_PREPARING = 0,
	ROUNDLOOP_RUNNING,     /* the first round has begun: the load is steady */
	ROUNDLOOP_FAILED,      /* why says what */
	ROUNDLOOP_STOPPED,
};

/* In memory shared with the case: what the load process did. */
struct roundloop_shared {
	_Atomic int state;
	_Atomic uint64_t rounds;       /* completed */
	_Atomic uint64_t round_ns;     /* time the completed rounds took */
	uint64_t prepare_ns;
	uint64_t first_ns;             /* CLOCK_MONOTONIC at the first round's start */
	uint64_t end_ns;               /* when the load process stopped */
	uint64_t partial_units;        /* work done in the round that was cut short (files, objects) */
	uint64_t partial_bytes;
	char why[200];
};

/* What one kind of load does, in its own process; arg is the load's state (a copy, after fork). */
struct roundloop_ops {
	/* Once, before the first round: 0, or -1 with why. May spawn and wait (roundloop_run). */
	int (*prepare)(void *arg, char *why, size_t why_len);
	/* Start one round's program: its pid, or -1 with why. */
	pid_t (*round_start)(void *arg, char *why, size_t why_len);
	/* After the round's program exited with status: 0 (ready for the next), or -1 with why. */
	int (*round_end)(void *arg, int status, char *why, size_t why_len);
	/* After a round was cut short (its programs are dead): count what it did into sh. May be NULL. */
	void (*cut_short)(void *arg, struct roundloop_shared *sh);
};

struct roundloop {
	struct roundloop_shared *sh;
	pid_t pid;
};

/*
 * Fork the load process on cpu (-1: unpinned) and wait until the first
 * round has begun (at most ready_timeout_ms: preparing may take seconds).
 * 0, or -1 with why (the load process is gone then).
 */
int roundloop_start(struct roundloop *rl, const struct roundloop_ops *ops, void *arg, int cpu,
		    unsigned ready_timeout_ms, char *why, size_t why_len);
/* Stop the load process, its programs with it, and reap it. 0, or -1 with why. Safe twice. */
int roundloop_stop(struct roundloop *rl, char *why, size_t why_len);
/* Release the shared memory (after reading it). */
void roundloop_free(struct roundloop *rl);

/*
 * For prepare(): wait for a program it spawned; a stop request kills it.
 * 0 when it exited with 0, or -1 with why (its exit described with the
 * tail of log_path).
 */
int roundloop_run(pid_t pid, const char *log_path, char *why, size_t why_len);

/*
 * After roundloop_stop(): report "<round>s_completed", "seconds_per_<round>"
 * (when one completed), "wall_s" (from the first round's start to the
 * stop) and "prepare_s" into r; returns wall_s.
 */
double roundloop_report(const struct roundloop *rl, struct report *r, const char *round);

/* CLOCK_MONOTONIC in ns. */
uint64_t roundloop_now_ns(void);
