/*
 * The service manager's applications: CPU-bound real-time processes on the
 * measuring CPU, and the ways a manager watches and steers them.
 *
 * An app would take the whole CPU if allowed: it spins, checking a stop
 * flag and a deadline (the case's timeout), so it always ends. Its
 * SCHED_FIFO priority follows the paper's rule 80 x target / period,
 * i.e. 80 x its target share (at least 1). Apps die with the case process
 * (PR_SET_PDEATHSIG) and sit in its process group.
 */
#pragma once
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "mechanism.h"

#define CSM_APPS_MAX 3

struct csm_app_shared {
	_Atomic int stop;
	_Atomic uint64_t deadline_cycles;   /* apps give up at this TSC */
	_Alignas(64) _Atomic uint64_t resume_cycles;   /* sm-ctxsw: first stamp after a gap, once zeroed */
	_Atomic uint64_t resumes;
	uint64_t gap_cycles;                /* a stamp this far after the previous one is a resume */
};

struct csm_apps {
	unsigned n;
	pid_t pid[CSM_APPS_MAX];
	clockid_t clock[CSM_APPS_MAX];      /* each app's CPU clock */
	int priority[CSM_APPS_MAX];
	bool running[CSM_APPS_MAX];         /* as the manager last set it */
	struct csm_app_shared *sh;
};

/* The apps need a pinned measuring CPU: BENCH_SKIP with the reason where the case has none. */
int csm_apps_probe(struct mech_ctx *ctx);
/*
 * Start n apps on ctx->cpu with the given SCHED_FIFO priorities. The caller
 * must already run above them on that CPU (csm_raise_manager()).
 */
int csm_apps_start(struct mech_ctx *ctx, struct csm_apps *a, unsigned n, const int *priorities);
/* Continue, stop and reap every app; safe on a half-started set and twice. */
void csm_apps_stop(struct csm_apps *a);
/* SIGSTOP then SIGCONT every app, each confirmed with waitpid(): 0 or an errno. */
int csm_apps_check_stop_cont(struct csm_apps *a);

/* SIGCONT or SIGSTOP app i. Returns 0 or errno. Async-signal-safe. */
static inline int csm_app_set_running(struct csm_apps *a, unsigned i, bool run)
{
	if (kill(a->pid[i], run ? SIGCONT : SIGSTOP) != 0)
		return errno;
	a->running[i] = run;
	return 0;
}

/* The app's CPU time from its CPU clock, in ns. 0 or errno. Async-signal-safe. */
int csm_cpuclock_ns(clockid_t clock, uint64_t *ns);

/*
 * The user-level monitor: open, read and close /proc/PID/stat and return
 * utime + stime in ns (USER_HZ ticks: 10 ms resolution). 0 or errno.
 */
int csm_proc_stat_ns(pid_t pid, uint64_t *ns);

/* SCHED_FIFO at `priority` for the calling process, or the reason it cannot be. */
int csm_raise_manager(struct mech_ctx *ctx, int priority);
