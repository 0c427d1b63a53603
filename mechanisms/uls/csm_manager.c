/*
 * Experiment 6: the CPU service manager keeping three CPU-bound real-time
 * apps at their target shares (csm_ctl.h), every tick_us (paper 10 ms).
 *
 *   sm-user       the paper's user-level manager: the case process, a
 *                 SCHED_FIFO manager_priority process, sleeps to each tick
 *                 (clock_nanosleep), reads /proc/PID/stat of each app and
 *                 steers them with SIGSTOP / SIGCONT.
 *   sm-extension  the manager as a ULS extension: a POSIX timer signal
 *                 upcalls it onto the sandbox stack; it opens the sandbox
 *                 (its controller state lives there), reads each app's CPU
 *                 clock, decides, sends the same signals, closes the
 *                 sandbox. On stock Linux the upcall still needs the
 *                 kernel to switch to the case process; SafeX ran it as a
 *                 kernel bottom half.
 *
 * The sample is one tick's cost, from the manager's wake-up (user) or the
 * extension's entry to its last signal sent: the paper's "monitors and
 * handlers for 3 processes" (190 us user level, 20 us SafeX).
 *
 * data/CASE/utilization.csv holds each app's share of the CPU per
 * window_ms (paper: 1 s) beside its target, from the kernel's ns CPU
 * clocks read after the timed part of each tick (both managers are judged
 * by the same ruler, not by /proc's 10 ms ticks).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csm_apps.h"
#include "csm_ctl.h"
#include "csm_manager.h"
#include "rtenv.h"
#include "sandbox.h"
#include "uls.h"

#define SM_TIMER_SIGNAL (SIGRTMIN + 2)

/* The extension (a signal handler) finds the case's state here: set in setup, cleared in teardown. */
static struct sm_state *volatile g_sm;

/* Feed one reading of the apps' CPU time to the controller and apply its decisions. */
static int manager_tick(struct sm_state *m, const uint64_t *used_total_ns)
{
	uint64_t delta[CSM_APPS_MAX];

	for (unsigned i = 0; i < m->apps.n; i++) {
		delta[i] = used_total_ns[i] - m->prev_used_ns[i];
		m->prev_used_ns[i] = used_total_ns[i];
	}
	csm_ctl_tick(m->ctl, delta);
	for (unsigned i = 0; i < m->apps.n; i++) {
		bool run = m->ctl->app[i].run;
		if (run == m->apps.running[i])
			continue;
		int err = csm_app_set_running(&m->apps, i, run);
		if (err)
			return err;
		m->signals_sent++;
	}
	return 0;
}

/* Keep the tick's time and the apps' cumulative CPU time for the CSV (untimed). */
static inline void record_tick(struct sm_state *m, uint64_t cycles, const uint64_t *cum_ns)
{
	if (m->n_ticks >= m->max_ticks)
		return;
	m->t_cycles[m->n_ticks] = cycles;
	for (unsigned i = 0; i < m->apps.n; i++)
		m->cum_ns[m->n_ticks * CSM_APPS_MAX + i] = cum_ns[i];
	m->allowed[m->n_ticks] = false;
	for (unsigned i = 0; i < m->apps.n; i++)
		m->allowed[m->n_ticks] |= m->apps.running[i];
	m->n_ticks++;
}

static int read_clocks(struct sm_state *m, uint64_t *ns)
{
	for (unsigned i = 0; i < m->apps.n; i++) {
		int err = csm_cpuclock_ns(m->apps.clock[i], &ns[i]);
		if (err)
			return err;
	}
	return 0;
}

static void timespec_add_ns(struct timespec *ts, uint64_t ns)
{
	uint64_t sum = (uint64_t)ts->tv_nsec + ns;

	ts->tv_sec += (time_t)(sum / 1000000000ull);
	ts->tv_nsec = (long)(sum % 1000000000ull);
}

static int measure_user(struct mech_ctx *ctx, struct sm_state *m, struct samples *s)
{
	struct timespec next;
	uint64_t used[CSM_APPS_MAX], truth[CSM_APPS_MAX];

	if (clock_gettime(CLOCK_MONOTONIC, &next) != 0)
		return mech_why_errno(ctx, BENCH_FAIL, "clock_gettime");
	while (!samples_full(s)) {
		timespec_add_ns(&next, m->tick_ns);
		int err = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		if (err && err != EINTR)
			return mech_why(ctx, BENCH_FAIL, "clock_nanosleep: %s", strerror(err));
		uint64_t t0 = tsc_start();
		for (unsigned i = 0; i < m->apps.n && !err; i++)
			err = csm_proc_stat_ns(m->apps.pid[i], &used[i]);
		if (!err)
			err = manager_tick(m, used);
		uint64_t t1 = tsc_end();
		if (err)
			return mech_why(ctx, BENCH_FAIL, "monitoring or steering an app: %s", strerror(err));
		samples_add(s, t1 - t0);
		if ((err = read_clocks(m, truth)) != 0)
			return mech_why(ctx, BENCH_FAIL, "CPU clock of an app: %s", strerror(err));
		record_tick(m, tsc_start(), truth);
		struct timespec now;
		if (clock_gettime(CLOCK_MONOTONIC, &now) == 0 && (now.tv_sec > next.tv_sec ||
		    (now.tv_sec == next.tv_sec && now.tv_nsec > next.tv_nsec + (long)m->tick_ns))) {
			s->missed++;   /* a whole tick late: restart the grid from now */
			next = now;
		}
	}
	return BENCH_OK;
}

static void sm_extension(int sig, siginfo_t *si, void *uc)
{
	uint64_t t0 = tsc_start();   /* the extension's entry */
	struct sm_state *m = g_sm;
	uint64_t used[CSM_APPS_MAX];
	int saved_errno = errno;

	(void)sig;
	(void)si;
	(void)uc;
	int err = sandbox_open(&m->sb) != 0 ? errno : 0;
	if (!err) {
		err = read_clocks(m, used);
		if (!err)
			err = manager_tick(m, used);
		if (sandbox_close(&m->sb) != 0 && !err)
			err = errno;
	}
	uint64_t t1 = tsc_end();
	if (err) {
		m->ext_errno = err;
	} else {
		samples_add(m->s, t1 - t0);
		record_tick(m, t0, used);
	}
	int overrun = timer_getoverrun(m->timer);
	if (overrun > 0)
		m->s->missed += (uint64_t)overrun;
	errno = saved_errno;
}

static int measure_extension(struct mech_ctx *ctx, struct sm_state *m, struct samples *s)
{
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SM_TIMER_SIGNAL };
	struct itimerspec its = { .it_interval = { (time_t)(m->tick_ns / 1000000000ull),
						   (long)(m->tick_ns % 1000000000ull) } };
	sigset_t wait_mask;
	uint64_t bound = tsc_start() + tsc_ns_to_cycles(ctx->timeout_ns ? ctx->timeout_ns : 60000000000ull,
							ctx->tsc->tsc_khz);

	its.it_value = its.it_interval;
	sev._sigev_un._tid = gettid();
	m->s = s;
	if (timer_create(CLOCK_MONOTONIC, &sev, &m->timer) != 0)
		return mech_why_errno(ctx, BENCH_FAIL, "timer_create");
	m->timer_set = true;
	if (timer_settime(m->timer, 0, &its, NULL) != 0)
		return mech_why_errno(ctx, BENCH_FAIL, "timer_settime");
	wait_mask = m->old_mask;
	sigdelset(&wait_mask, SM_TIMER_SIGNAL);
	while (!samples_full(s) && !m->ext_errno) {
		sigsuspend(&wait_mask);   /* returns -1/EINTR after each upcall */
		if (tsc_start() > bound)
			return mech_why(ctx, BENCH_FAIL, "the extension ran %llu ticks before the case's timeout",
					(unsigned long long)m->n_ticks);
	}
	struct itimerspec off = { { 0, 0 }, { 0, 0 } };
	if (timer_settime(m->timer, 0, &off, NULL) != 0)
		return mech_why_errno(ctx, BENCH_FAIL, "disarming the timer");
	if (m->ext_errno)
		return mech_why(ctx, BENCH_FAIL, "the extension failed: %s", strerror(m->ext_errno));
	return BENCH_OK;
}

/* Before the first tick: records for the CSV, allocated (and locked by mlockall) now, and the first reading. */
static int sm_measure_begin(struct mech_ctx *ctx, struct sm_state *m, struct samples *s)
{
	m->max_ticks = (size_t)(s->warmup_target + s->cap + 2);
	m->t_cycles = calloc(m->max_ticks, sizeof(*m->t_cycles));
	m->cum_ns = calloc(m->max_ticks * CSM_APPS_MAX, sizeof(*m->cum_ns));
	m->allowed = calloc(m->max_ticks, sizeof(*m->allowed));
	if (!m->t_cycles || !m->cum_ns || !m->allowed)
		return mech_why(ctx, BENCH_FAIL, "out of memory for %zu tick records", m->max_ticks);
	int err = read_clocks(m, m->prev_used_ns);
	if (err)
		return mech_why(ctx, BENCH_FAIL, "first reading of the apps: %s", strerror(err));
	return BENCH_OK;
}

int uls_sm_user_measure(struct mech_ctx *ctx, struct samples *s)
{
	struct sm_state *m = ctx->priv;
	int rc = sm_measure_begin(ctx, m, s);

	if (rc != BENCH_OK)
		return rc;
	/* the user-level monitor's own first reading: the controller sees /proc's deltas */
	for (unsigned i = 0; i < m->apps.n; i++) {
		int err = csm_proc_stat_ns(m->apps.pid[i], &m->prev_used_ns[i]);
		if (err)
			return mech_why(ctx, BENCH_FAIL, "first reading of the apps: %s", strerror(err));
	}
	return measure_user(ctx, m, s);
}

int uls_sm_extension_measure(struct mech_ctx *ctx, struct samples *s)
{
	struct sm_state *m = ctx->priv;
	int rc = sm_measure_begin(ctx, m, s);

	return rc != BENCH_OK ? rc : measure_extension(ctx, m, s);
}

static int setup_extension(struct mech_ctx *ctx, struct sm_state *m)
{
	char why[160];
	enum sandbox_toggle toggle = sandbox_pkeys_available(why, sizeof(why)) == 0 ? SANDBOX_PKEY : SANDBOX_MPROTECT;
	size_t pages = (sizeof(struct csm_ctl) + SANDBOX_PAGE_BYTES - 1) / SANDBOX_PAGE_BYTES;

	if (sandbox_create(&m->sb, toggle, pages, ctx->why, sizeof(ctx->why)) ||
	    sandbox_use_altstack(&m->sb, ctx->why, sizeof(ctx->why)))
		return BENCH_FAIL;
	m->have_sb = true;
	report_kv(ctx->report, "sandbox", "controller state in %zu protected page(s); toggle %s%s%s", pages,
		  sandbox_toggle_name(toggle), toggle == SANDBOX_PKEY ? "" : "; ", toggle == SANDBOX_PKEY ? "" : why);
	if (sandbox_open(&m->sb) != 0)
		return mech_why_errno(ctx, BENCH_FAIL, "opening the sandbox");
	m->ctl = (struct csm_ctl *)m->sb.data;
	csm_ctl_init(m->ctl, m->apps.n, m->targets, (double)m->tick_ns, m->gains[0], m->gains[1], m->gains[2]);
	if (sandbox_close(&m->sb) != 0)
		return mech_why_errno(ctx, BENCH_FAIL, "closing the sandbox");

	struct sigaction sa = { .sa_sigaction = sm_extension, .sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART };
	sigset_t block;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	sigaddset(&block, SM_TIMER_SIGNAL);
	int err = pthread_sigmask(SIG_BLOCK, &block, &m->old_mask);
	if (err)
		return mech_why(ctx, BENCH_FAIL, "pthread_sigmask: %s", strerror(err));
	m->mask_set = true;
	if (sigaction(SM_TIMER_SIGNAL, &sa, &m->old_act) != 0)
		return mech_why_errno(ctx, BENCH_FAIL, "sigaction");
	m->handler_set = true;
	g_sm = m;
	report_kv(ctx->report, "monitor", "each app's CPU clock (clock_gettime), inside the extension");
	return BENCH_OK;
}

int uls_sm_probe(struct mech_ctx *ctx)
{
	const struct uls_cfg *cfg = ctx->cfg;
	int rc = csm_apps_probe(ctx);

	if (rc != BENCH_OK)
		return rc;
	int64_t sum = cfg->share1_pct + cfg->share2_pct + cfg->share3_pct;
	if (sum > 90)
		return mech_why(ctx, BENCH_FAIL, "target shares add up to %lld%%; at most 90%% leaves room "
				"for the manager and the rest of the system", (long long)sum);
	return BENCH_OK;
}

/* What both managers share: the apps, running and confirmed to stop and continue. */
static int sm_setup(struct mech_ctx *ctx)
{
	const struct uls_cfg *cfg = ctx->cfg;
	struct sm_state *m = calloc(1, sizeof(*m));
	int prio[ULS_APPS];

	if (!m)
		return mech_why(ctx, BENCH_FAIL, "out of memory");
	ctx->priv = m;
	m->tick_ns = (uint64_t)cfg->tick_us * 1000u;
	m->window_ns = (uint64_t)cfg->window_ms * 1000000u;
	m->gains[0] = (double)cfg->kp_milli / 1000.0;
	m->gains[1] = (double)cfg->ki_milli / 1000.0;
	m->gains[2] = (double)cfg->kd_milli / 1000.0;
	for (unsigned i = 0; i < ULS_APPS; i++) {
		m->targets[i] = (double)uls_share_pct(cfg, i) / 100.0;
		prio[i] = (int)(80 * uls_share_pct(cfg, i) / 100);   /* the paper's 80 x target / period */
		if (prio[i] < 1)
			prio[i] = 1;
	}
	int rc = csm_raise_manager(ctx, (int)cfg->manager_priority);
	if (rc == BENCH_OK)
		rc = csm_apps_start(ctx, &m->apps, ULS_APPS, prio);
	if (rc == BENCH_OK) {
		int err = csm_apps_check_stop_cont(&m->apps);
		if (err)
			rc = mech_why(ctx, BENCH_FAIL, "SIGSTOP/SIGCONT of the apps not confirmed: %s", strerror(err));
	}
	if (rc != BENCH_OK)
		return rc;
	report_kv(ctx->report, "apps", "3 CPU-bound SCHED_FIFO apps on CPU %d, targets %.2f/%.2f/%.2f, "
		  "priorities %d/%d/%d (80 x share); manager SCHED_FIFO %lld", ctx->cpu, m->targets[0], m->targets[1],
		  m->targets[2], prio[0], prio[1], prio[2], (long long)cfg->manager_priority);
	report_kv(ctx->report, "control", "tick %lld us, PID kp %.3f ki %.3f/s kd %.3f s on the share "
		  "(EWMA over %.0f ticks), credit of +-%.0f ticks for stop/continue", (long long)cfg->tick_us,
		  m->gains[0], m->gains[1], m->gains[2], CSM_EWMA_TICKS, CSM_CREDIT_TICKS);
	return BENCH_OK;
}

int uls_sm_user_setup(struct mech_ctx *ctx)
{
	int rc = sm_setup(ctx);
	struct sm_state *m = ctx->priv;

	if (rc != BENCH_OK)
		return rc;
	m->ctl = &m->local_ctl;
	csm_ctl_init(m->ctl, m->apps.n, m->targets, (double)m->tick_ns, m->gains[0], m->gains[1], m->gains[2]);
	report_kv(ctx->report, "monitor", "/proc/PID/stat utime+stime (open, read, close; USER_HZ resolution)");
	return BENCH_OK;
}

int uls_sm_extension_setup(struct mech_ctx *ctx)
{
	int rc = sm_setup(ctx);

	return rc != BENCH_OK ? rc : setup_extension(ctx, ctx->priv);
}

void uls_sm_teardown(struct mech_ctx *ctx)
{
	struct sm_state *m = ctx->priv;

	if (!m)
		return;
	if (m->timer_set && timer_delete(m->timer) == 0)
		m->timer_set = false;
	csm_apps_stop(&m->apps);
	if (m->handler_set && sigaction(SM_TIMER_SIGNAL, &m->old_act, NULL) == 0)
		m->handler_set = false;
	if (m->mask_set && pthread_sigmask(SIG_SETMASK, &m->old_mask, NULL) == 0)
		m->mask_set = false;
	g_sm = NULL;
	sm_write_results(ctx, m);
	report_int(ctx->report, "signals_sent", (int64_t)m->signals_sent, "");   /* SIGSTOP and SIGCONT */
	int err = rtenv_fifo_self(ctx->priority);   /* back to the case's priority, now that no app is left */
	if (err)
		report_kv(ctx->report, "manager_priority_restore", "failed: %s", strerror(err));
	if (m->have_sb)
		sandbox_destroy(&m->sb);
	free(m->t_cycles);
	free(m->cum_ns);
	free(m->allowed);
	free(m);
	ctx->priv = NULL;
}
