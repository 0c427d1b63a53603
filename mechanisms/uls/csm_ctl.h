/*
 * The CPU service manager's control logic, pure (no system calls), so that
 * unit tests can drive it against a simulated CPU.
 *
 * Every tick the manager learns how much CPU time each app got since the
 * last tick. Per app:
 *   1. measured share: an exponential average of used / tick over about
 *      CSM_EWMA_TICKS ticks;
 *   2. a PID controller on (target - measured share) sets the app's
 *      allotment: target + PID output, clamped to [0, 1];
 *   3. a credit counter turns the allotment into stop/continue decisions:
 *      credit += allotment x tick - used, bounded to +-CSM_CREDIT_TICKS
 *      ticks; the app may run in the next tick while its credit is positive.
 * The credit alone gives each app its allotment in the long run; the PID
 * raises the allotment when the app could not use what it was allowed
 * (a disturbance took the CPU) and lowers it when it ran over.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CSM_MAX_APPS 8
#define CSM_EWMA_TICKS 10.0
#define CSM_CREDIT_TICKS 2.0
#define CSM_PID_OUT_LIMIT 0.5   /* the PID moves an allotment by at most this share */

struct pid_ctl {
	double kp, ki, kd;          /* ki per second, kd in seconds */
	double integral;            /* of the error, in share x seconds */
	double prev_err;
	bool primed;                /* prev_err is valid */
};

void pid_init(struct pid_ctl *p, double kp, double ki, double kd);
/* One step: returns kp e + ki integral(e) + kd de/dt, clamped to +-CSM_PID_OUT_LIMIT (anti-windup). */
double pid_step(struct pid_ctl *p, double err, double dt_s);

struct csm_app_ctl {
	double target;              /* share of one CPU, 0..1 */
	double share;               /* measured (exponential average) */
	double allot;               /* target + PID output */
	double credit_ns;
	bool run;                   /* the decision for the next tick */
	struct pid_ctl pid;
};

struct csm_ctl {
	unsigned n;
	double tick_ns;
	struct csm_app_ctl app[CSM_MAX_APPS];
};

/* gains: kp, ki (1/s), kd (s). Every app starts allowed to run. */
void csm_ctl_init(struct csm_ctl *c, unsigned n, const double *targets, double tick_ns,
		  double kp, double ki, double kd);
/* One tick: used_ns[i] = CPU time app i got since the last tick. Sets app[i].run. */
void csm_ctl_tick(struct csm_ctl *c, const uint64_t *used_ns);

/*
 * Utilization per window from cumulative records: t_ns[k] the time of tick
 * k, cum_ns[k * n_apps + i] the CPU time app i had used by then. Window w
 * spans the ticks closest to t_ns[0] + w x window_ns and one window later.
 * Writes share[w * n_apps + i]; returns the number of complete windows.
 */
size_t csm_window_shares(const uint64_t *t_ns, const uint64_t *cum_ns, size_t n_ticks, unsigned n_apps,
			 uint64_t window_ns, double *share, size_t max_windows);

/*
 * The CPU taken from the apps per window: over the ticks after which at
 * least one app was allowed to run (allowed[k]: between tick k and k + 1),
 * the fraction of that time the apps did not get (CPU-bound real-time apps
 * run whenever allowed, so something above them had the CPU: a disturbance,
 * the manager, real-time throttling). Same windows as csm_window_shares();
 * writes taken[w], returns the number of complete windows.
 */
size_t csm_window_taken(const uint64_t *t_ns, const uint64_t *cum_ns, const bool *allowed, size_t n_ticks,
			unsigned n_apps, uint64_t window_ns, double *taken, size_t max_windows);
