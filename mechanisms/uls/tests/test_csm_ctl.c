/*
 * Unit tests of the service manager's control logic (csm_ctl.c): the PID
 * controller, the window share accounting, and the whole loop against a
 * simulated uniprocessor where the highest-priority app allowed to run
 * takes the whole tick, with and without a disturbance.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../csm_ctl.h"

#include "check.h"

static void test_pid(void)
{
	struct pid_ctl p;

	pid_init(&p, 0.5, 0.0, 0.0);
	CHECK_MSG(fabs(pid_step(&p, 0.2, 0.01) - 0.1) < 1e-12, "P term");
	pid_init(&p, 0.0, 2.0, 0.0);
	for (int i = 0; i < 10; i++)
		pid_step(&p, 0.1, 0.01);
	CHECK_MSG(fabs(pid_step(&p, 0.1, 0.01) - 2.0 * 0.1 * 0.11) < 1e-12, "I term after 11 steps");
	pid_init(&p, 0.0, 0.0, 0.01);
	pid_step(&p, 0.0, 0.01);
	CHECK_MSG(fabs(pid_step(&p, 0.1, 0.01) - 0.1) < 1e-12, "D term");
	pid_init(&p, 0.0, 100.0, 0.0);
	for (int i = 0; i < 1000; i++)
		pid_step(&p, 1.0, 0.01);
	CHECK_MSG(pid_step(&p, 1.0, 0.01) <= CSM_PID_OUT_LIMIT, "output clamped");
	CHECK_MSG(p.ki * p.integral < 2 * CSM_PID_OUT_LIMIT, "integral wound up to %g", p.ki * p.integral);
	double back = pid_step(&p, -0.1, 0.01);
	CHECK_MSG(back < CSM_PID_OUT_LIMIT, "no windup: a negative error pulls the output down at once (%g)", back);
}

static void test_windows(void)
{
	enum { TICKS = 301, APPS = 2 };
	uint64_t t[TICKS], cum[TICKS * APPS];
	double share[10 * APPS];

	for (int k = 0; k < TICKS; k++) {
		t[k] = 1000 + (uint64_t)k * 10000000ull;   /* 10 ms ticks */
		cum[k * APPS] = (uint64_t)k * 2500000ull;   /* 25 % */
		cum[k * APPS + 1] = (uint64_t)k * 1000000ull;   /* 10 % */
	}
	size_t w = csm_window_shares(t, cum, TICKS, APPS, 1000000000ull, share, 10);
	CHECK_MSG(w == 3, "3 s of ticks give 3 windows, got %zu", w);
	for (size_t i = 0; i < w; i++) {
		CHECK_MSG(fabs(share[i * APPS] - 0.25) < 1e-9, "window %zu app 0 share %g", i, share[i * APPS]);
		CHECK_MSG(fabs(share[i * APPS + 1] - 0.10) < 1e-9, "window %zu app 1 share %g", i, share[i * APPS + 1]);
	}
	CHECK_MSG(csm_window_shares(t, cum, 1, APPS, 1000000000ull, share, 10) == 0, "one tick: no window");
}

/* The CPU taken from the apps: counted only while some app was allowed to run. */
static void test_taken(void)
{
	enum { TICKS = 201, APPS = 1 };
	uint64_t t[TICKS], cum[TICKS * APPS], used = 0;
	bool allowed[TICKS];
	double taken[10];

	for (int k = 0; k < TICKS; k++) {
		t[k] = (uint64_t)k * 10000000ull;
		cum[k] = used;
		/* second 0: allowed every other tick, gets all of it (nothing taken); second 1: allowed always,
		 * gets 7 ms of each 10 ms tick (30 % taken, as a disturbance of 30 % would) */
		allowed[k] = k < 100 ? k % 2 == 0 : true;
		used += k < 100 ? (allowed[k] ? 10000000ull : 0) : 7000000ull;
	}
	size_t w = csm_window_taken(t, cum, allowed, TICKS, APPS, 1000000000ull, taken, 10);
	CHECK_MSG(w == 2, "2 s of ticks give 2 windows, got %zu", w);
	CHECK_MSG(fabs(taken[0]) < 1e-9, "stopped by the manager is not taken: %g", taken[0]);
	CHECK_MSG(fabs(taken[1] - 0.30) < 1e-9, "30 %% taken: %g", taken[1]);
}

/*
 * A uniprocessor for `seconds`: apps in priority order (the largest target
 * first, as the paper's 80 x share rule gives), the highest one allowed to
 * run takes what the disturbance leaves of each tick. Disturbance: `dist`
 * of the CPU for burst_s out of every period_s. Returns per-second shares.
 */
static void simulate(const double *targets, unsigned n, double dist, double burst_s, double period_s,
		     unsigned seconds, double *share_per_s)
{
	const double tick_ns = 10e6;
	struct csm_ctl c;
	uint64_t used[CSM_MAX_APPS] = { 0 };
	double sum[CSM_MAX_APPS] = { 0 };
	unsigned ticks_per_s = 100;

	csm_ctl_init(&c, n, targets, tick_ns, 0.2, 1.0, 0.0);
	for (unsigned k = 0; k < seconds * ticks_per_s; k++) {
		double t_s = k * tick_ns / 1e9;
		double busy = fmod(t_s, period_s) < burst_s ? dist : 0.0;
		double avail = tick_ns * (1.0 - busy);
		for (unsigned i = 0; i < n; i++) {
			used[i] = c.app[i].run ? (uint64_t)avail : 0;
			if (c.app[i].run)
				avail = 0;
		}
		for (unsigned i = 0; i < n; i++)
			sum[i] += (double)used[i];
		csm_ctl_tick(&c, used);
		if ((k + 1) % ticks_per_s == 0)
			for (unsigned i = 0; i < n; i++) {
				share_per_s[(k / ticks_per_s) * n + i] = sum[i] / 1e9;
				sum[i] = 0;
			}
	}
}

static void test_loop(void)
{
	const double targets[3] = { 0.30, 0.20, 0.10 };
	double share[40 * 3];

	simulate(targets, 3, 0.0, 0, 1, 20, share);
	for (unsigned s = 1; s < 20; s++)
		for (unsigned i = 0; i < 3; i++)
			CHECK_MSG(fabs(share[s * 3 + i] - targets[i]) < 0.02, "undisturbed: second %u app %u share %.3f, target %.2f",
			      s, i, share[s * 3 + i], targets[i]);

	/* 30 % disturbance for 3 s of every 13 s: the long-run shares still reach the targets. */
	simulate(targets, 3, 0.30, 3.0, 13.0, 39, share);
	for (unsigned i = 0; i < 3; i++) {
		double mean = 0;
		for (unsigned s = 0; s < 39; s++)
			mean += share[s * 3 + i] / 39;
		CHECK_MSG(fabs(mean - targets[i]) < 0.02, "disturbed: app %u mean share %.3f, target %.2f", i, mean, targets[i]);
	}
}

int main(void)
{
	test_pid();
	test_windows();
	test_taken();
	test_loop();
	if (check_failures)
		fprintf(stderr, "%d check(s) failed\n", check_failures);
	else
		printf("csm_ctl: all checks passed\n");
	return check_failures ? 1 : 0;
}
