/* The CPU service manager's control logic (csm_ctl.h). */
#include "csm_ctl.h"

#include <string.h>

static double clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

void pid_init(struct pid_ctl *p, double kp, double ki, double kd)
{
	memset(p, 0, sizeof(*p));
	p->kp = kp;
	p->ki = ki;
	p->kd = kd;
}

double pid_step(struct pid_ctl *p, double err, double dt_s)
{
	double deriv = p->primed && dt_s > 0 ? (err - p->prev_err) / dt_s : 0.0;

	p->prev_err = err;
	p->primed = true;
	double integral = p->integral + err * dt_s;
	double out = p->kp * err + p->ki * integral + p->kd * deriv;
	if (out > CSM_PID_OUT_LIMIT || out < -CSM_PID_OUT_LIMIT) {
		/* anti-windup: integrate only while it pulls the output back inside */
		if ((out > 0) != (err > 0))
			p->integral = integral;
		return clamp(out, -CSM_PID_OUT_LIMIT, CSM_PID_OUT_LIMIT);
	}
	p->integral = integral;
	return out;
}

void csm_ctl_init(struct csm_ctl *c, unsigned n, const double *targets, double tick_ns,
		  double kp, double ki, double kd)
{
	memset(c, 0, sizeof(*c));
	c->n = n > CSM_MAX_APPS ? CSM_MAX_APPS : n;
	c->tick_ns = tick_ns;
	for (unsigned i = 0; i < c->n; i++) {
		struct csm_app_ctl *a = &c->app[i];
		a->target = targets[i];
		a->share = targets[i];
		a->allot = targets[i];
		a->run = true;
		pid_init(&a->pid, kp, ki, kd);
	}
}

void csm_ctl_tick(struct csm_ctl *c, const uint64_t *used_ns)
{
	const double alpha = 1.0 / CSM_EWMA_TICKS;
	const double cap_ns = CSM_CREDIT_TICKS * c->tick_ns;
	const double dt_s = c->tick_ns / 1e9;

	for (unsigned i = 0; i < c->n; i++) {
		struct csm_app_ctl *a = &c->app[i];
		double used = (double)used_ns[i];
		a->share += alpha * (used / c->tick_ns - a->share);
		a->allot = clamp(a->target + pid_step(&a->pid, a->target - a->share, dt_s), 0.0, 1.0);
		a->credit_ns = clamp(a->credit_ns + a->allot * c->tick_ns - used, -cap_ns, cap_ns);
		a->run = a->credit_ns > 0;
	}
}

/* The first tick at or after time t, from index k on. */
static size_t tick_at(const uint64_t *t_ns, size_t n_ticks, size_t k, uint64_t t)
{
	while (k < n_ticks && t_ns[k] < t)
		k++;
	return k;
}

/* The end of window w, which starts at tick k0: *k1; false when the ticks end before the window does. */
static bool window_end(const uint64_t *t_ns, size_t n_ticks, uint64_t window_ns, size_t w, size_t k0, size_t *k1)
{
	*k1 = tick_at(t_ns, n_ticks, k0 + 1, t_ns[0] + (w + 1) * window_ns);
	return *k1 < n_ticks;
}

size_t csm_window_shares(const uint64_t *t_ns, const uint64_t *cum_ns, size_t n_ticks, unsigned n_apps,
			 uint64_t window_ns, double *share, size_t max_windows)
{
	size_t w = 0, k1;

	if (n_ticks < 2 || window_ns == 0)
		return 0;
	for (size_t k0 = 0; w < max_windows && window_end(t_ns, n_ticks, window_ns, w, k0, &k1); w++, k0 = k1) {
		double span = (double)(t_ns[k1] - t_ns[k0]);
		for (unsigned i = 0; i < n_apps; i++)
			share[w * n_apps + i] = (double)(cum_ns[k1 * n_apps + i] - cum_ns[k0 * n_apps + i]) / span;
	}
	return w;
}

/* Of the time between ticks k0 and k1 in which some app was allowed to run, the fraction the apps did not get. */
static double taken_between(const uint64_t *t_ns, const uint64_t *cum_ns, const bool *allowed, unsigned n_apps,
			    size_t k0, size_t k1)
{
	double runnable = 0, lost = 0;

	for (size_t k = k0; k < k1; k++) {
		if (!allowed[k])
			continue;
		double dt = (double)(t_ns[k + 1] - t_ns[k]), used = 0;
		for (unsigned i = 0; i < n_apps; i++)
			used += (double)(cum_ns[(k + 1) * n_apps + i] - cum_ns[k * n_apps + i]);
		runnable += dt;
		lost += used < dt ? dt - used : 0;
	}
	return runnable > 0 ? lost / runnable : 0;
}

size_t csm_window_taken(const uint64_t *t_ns, const uint64_t *cum_ns, const bool *allowed, size_t n_ticks,
			unsigned n_apps, uint64_t window_ns, double *taken, size_t max_windows)
{
	size_t w = 0, k1;

	if (n_ticks < 2 || window_ns == 0)
		return 0;
	for (size_t k0 = 0; w < max_windows && window_end(t_ns, n_ticks, window_ns, w, k0, &k1); w++, k0 = k1)
		taken[w] = taken_between(t_ns, cum_ns, allowed, n_apps, k0, k1);
	return w;
}
