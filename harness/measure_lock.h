/*
 * The machine-wide measuring lock: two harness runs at once disturb each
 * other's numbers, so a run measures only while it holds an exclusive POSIX
 * record lock on byte 0 of MEASURE_LOCK_PATH (/run/gapbench.lock, or
 * /tmp/gapbench-measure.lock when /run is not writable; $GAPBENCH_MEASURE_LOCK
 * overrides both). The holder writes "pid=N started=ISO out=DIR" into the
 * file. Every run, --no-lock ones too, also holds a shared lock on byte
 * 1 + its pid, so any run can list the gapbench runs alive beside it
 * (F_GETLK). meta.json records what a run saw (run.measure_lock).
 */
#pragma once
#include <jansson.h>
#include <stdbool.h>

#define MEASURE_LOCK_PATH "/run/gapbench.lock"
#define MEASURE_LOCK_FALLBACK "/tmp/gapbench-measure.lock"
#define MEASURE_LOCK_ENV "GAPBENCH_MEASURE_LOCK"

struct measure_lock {
	int fd;             /* -1: no lock file */
	bool held;          /* the exclusive measuring lock */
	char path[512];
	json_t *info;       /* {"path", "taken", "waited_s", "why", "runs_beside": [{pid, started, out, ...}]} */
};

/*
 * Take the measuring lock (take = false: --no-lock, only register). When
 * another run holds it, say so in one line on stderr and wait; a signal
 * that sets *interrupted ends the wait (returns -1). A lock file that cannot
 * be used is one warning line and the run goes on without it (returns 0).
 * started is this run's ISO start, out its folder (written for others to read).
 */
int measure_lock_take(struct measure_lock *ml, bool take, const char *started, const char *out,
		      volatile int *interrupted);
/* Note the gapbench runs alive now beside this one in ml->info (cheap: call it once per case). */
void measure_lock_observe(struct measure_lock *ml);
/* ml->info stays valid until this; the lock itself goes with the process. */
void measure_lock_release(struct measure_lock *ml);
