/*
 * Experiment 6, the costs SafeX tabulates for the user-level manager, each
 * measured against one CPU-bound SCHED_FIFO app on the measuring CPU, the
 * manager (the case process) above it at manager_priority:
 *
 *   sm-signal     one kill() of SIGSTOP or SIGCONT (alternating) to the
 *                 app; between samples the manager sleeps 50 us so the app
 *                 really stops or runs (paper: signal dispatch 1.5 us)
 *   sm-ctxsw      the manager stamps the TSC and blocks (a 100 us sleep);
 *                 the app, spinning on TSC reads, stamps its first read
 *                 after the gap: manager-to-app switch (paper 2.99 us)
 *   sm-proc-stat  open, read, parse, close /proc/PID/stat (paper 53.87 us)
 *   sm-cpuclock   clock_gettime() on the app's CPU clock, the extension's
 *                 monitor (no paper number)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csm_apps.h"
#include "rtenv.h"
#include "uls.h"

#define SIGNAL_SETTLE_NS 50000
#define CTXSW_SLEEP_NS 100000
#define CTXSW_MAX_MISSES 1000

struct cost_state {
	struct csm_apps apps;
	uint64_t ctxsw_misses;   /* blocks after which the app did not stamp a resume */
};

static int sleep_ns(long ns)
{
	struct timespec ts = { 0, ns };
	int err = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
	return err == EINTR ? 0 : err;
}

int uls_sm_signal_measure(struct mech_ctx *ctx, struct samples *s)
{
	struct cost_state *c = ctx->priv;

	for (bool run = false; !samples_full(s); run = !run) {
		uint64_t t0 = tsc_start();
		int err = kill(c->apps.pid[0], run ? SIGCONT : SIGSTOP);
		uint64_t t1 = tsc_end();
		if (err)
			return mech_why_errno(ctx, BENCH_FAIL, "kill");
		samples_add(s, t1 - t0);
		if ((err = sleep_ns(SIGNAL_SETTLE_NS)) != 0)
			return mech_why(ctx, BENCH_FAIL, "clock_nanosleep: %s", strerror(err));
	}
	return BENCH_OK;
}

/*
 * Not a tsc_start()..tsc_end() span: the end is the app's own tsc_start()
 * stamp in another process, so the probe overhead is not subtracted.
 */
int uls_sm_ctxsw_measure(struct mech_ctx *ctx, struct samples *s)
{
	struct cost_state *c = ctx->priv;
	struct csm_app_shared *sh = c->apps.sh;

	while (!samples_full(s)) {
		atomic_store(&sh->resume_cycles, 0);   /* arm: the app stamps its next resume */
		uint64_t t0 = tsc_start();
		int err = sleep_ns(CTXSW_SLEEP_NS);
		if (err)
			return mech_why(ctx, BENCH_FAIL, "clock_nanosleep: %s", strerror(err));
		uint64_t resumed = atomic_load(&sh->resume_cycles);
		if (resumed > t0) {
			samples_add(s, resumed - t0);
		} else if (++c->ctxsw_misses > CTXSW_MAX_MISSES) {
			return mech_why(ctx, BENCH_FAIL, "the app did not run while the manager slept, %llu times",
					(unsigned long long)c->ctxsw_misses);
		}
	}
	report_int(ctx->report, "ctxsw_misses", (int64_t)c->ctxsw_misses, "");   /* blocks without an app resume, not sampled */
	return BENCH_OK;
}

/* The two monitors a manager may use to read an app's CPU time. */
struct monitor {
	const char *name;
	int (*read_ns)(const struct csm_apps *apps, uint64_t *ns);
};

static int read_proc_stat(const struct csm_apps *apps, uint64_t *ns)
{
	return csm_proc_stat_ns(apps->pid[0], ns);
}

static int read_cpuclock(const struct csm_apps *apps, uint64_t *ns)
{
	return csm_cpuclock_ns(apps->clock[0], ns);
}

static const struct monitor monitor_proc_stat = { "/proc/PID/stat", read_proc_stat };
static const struct monitor monitor_cpuclock = { "CPU clock", read_cpuclock };

static int measure_monitor(struct mech_ctx *ctx, const struct monitor *mon, struct samples *s)
{
	struct cost_state *c = ctx->priv;
	uint64_t ns;

	while (!samples_full(s)) {
		uint64_t t0 = tsc_start();
		int err = mon->read_ns(&c->apps, &ns);
		uint64_t t1 = tsc_end();
		if (err)
			return mech_why(ctx, BENCH_FAIL, "%s: %s", mon->name, strerror(err));
		samples_add(s, t1 - t0);
	}
	return BENCH_OK;
}

int uls_sm_proc_stat_measure(struct mech_ctx *ctx, struct samples *s)
{
	return measure_monitor(ctx, &monitor_proc_stat, s);
}

int uls_sm_cpuclock_measure(struct mech_ctx *ctx, struct samples *s)
{
	return measure_monitor(ctx, &monitor_cpuclock, s);
}

int uls_sm_cost_setup(struct mech_ctx *ctx)
{
	const struct uls_cfg *cfg = ctx->cfg;
	struct cost_state *c = calloc(1, sizeof(*c));
	int prio = (int)(80 * cfg->share1_pct / 100);

	if (!c)
		return mech_why(ctx, BENCH_FAIL, "out of memory");
	ctx->priv = c;
	if (prio < 1)
		prio = 1;
	int rc = csm_raise_manager(ctx, (int)cfg->manager_priority);
	if (rc == BENCH_OK)
		rc = csm_apps_start(ctx, &c->apps, 1, &prio);
	if (rc == BENCH_OK) {
		int err = csm_apps_check_stop_cont(&c->apps);
		if (err)
			rc = mech_why(ctx, BENCH_FAIL, "SIGSTOP/SIGCONT of the app not confirmed: %s", strerror(err));
	}
	report_kv(ctx->report, "apps", "1 CPU-bound app, SCHED_FIFO %d on CPU %d; manager SCHED_FIFO %lld", prio,
		  ctx->cpu, (long long)cfg->manager_priority);
	return rc;
}

void uls_sm_cost_teardown(struct mech_ctx *ctx)
{
	struct cost_state *c = ctx->priv;

	if (!c)
		return;
	csm_apps_stop(&c->apps);
	int err = rtenv_fifo_self(ctx->priority);
	if (err)
		report_kv(ctx->report, "manager_priority_restore", "failed: %s", strerror(err));
	free(c);
	ctx->priv = NULL;
}
