/* Unit tests of the MMPP schedule: reproducible by seed, in time order, with the requested means. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../mmpp_model.h"

#include "check.h"

static const struct mmpp_params paper = {
	.quiet_mean_us = 10000000, .burst_mean_us = 3000000, .quiet_rate_mhz = 0, .burst_rate_mhz = 100000, .seed = 42,
};

static void test_reproducible(void)
{
	struct mmpp_gen a, b, c;
	struct mmpp_params other = paper;
	int same = 1, differs = 0;

	other.seed = 43;
	mmpp_init(&a, &paper);
	mmpp_init(&b, &paper);
	mmpp_init(&c, &other);
	for (int i = 0; i < 10000; i++) {
		struct mmpp_event ea, eb, ec;
		mmpp_next(&a, &ea);
		mmpp_next(&b, &eb);
		mmpp_next(&c, &ec);
		same &= ea.t_us == eb.t_us && ea.type == eb.type;
		differs |= ea.t_us != ec.t_us;
	}
	CHECK_MSG(same, "the same seed gives the same schedule");
	CHECK_MSG(differs, "another seed gives another schedule");
}

static void test_statistics(void)
{
	struct mmpp_gen g;
	uint64_t last = 0, state_start = 0, quiet_us = 0, burst_us = 0, jobs_in_burst = 0;
	unsigned quiet_n = 0, burst_n = 0;
	int ordered = 1, alternates = 1, quiet_jobs = 0;
	enum mmpp_event_type expect = MMPP_BURST_START;
	bool burst = false;

	mmpp_init(&g, &paper);
	while (burst_n < 4000) {
		struct mmpp_event ev;
		mmpp_next(&g, &ev);
		ordered &= ev.t_us >= last;
		last = ev.t_us;
		if (ev.type == MMPP_JOB) {
			if (burst)
				jobs_in_burst++;
			else
				quiet_jobs++;
			continue;
		}
		alternates &= ev.type == expect;
		expect = ev.type == MMPP_BURST_START ? MMPP_BURST_END : MMPP_BURST_START;
		if (burst) {
			burst_us += ev.t_us - state_start;
			burst_n++;
		} else {
			quiet_us += ev.t_us - state_start;
			quiet_n++;
		}
		burst = ev.type == MMPP_BURST_START;
		state_start = ev.t_us;
	}
	CHECK_MSG(ordered, "events in time order");
	CHECK_MSG(alternates, "burst starts and ends alternate");
	CHECK_MSG(quiet_jobs == 0, "no jobs in the quiet state at rate 0 (%d)", quiet_jobs);
	/* 4000 exponential draws: the mean is within 5 % with overwhelming probability */
	double quiet_mean = (double)quiet_us / quiet_n, burst_mean = (double)burst_us / burst_n;
	CHECK_MSG(fabs(quiet_mean / 10e6 - 1) < 0.05, "mean quiet %.0f us, expected 10 s", quiet_mean);
	CHECK_MSG(fabs(burst_mean / 3e6 - 1) < 0.05, "mean burst %.0f us, expected 3 s", burst_mean);
	double rate = (double)jobs_in_burst / ((double)burst_us / 1e6);
	CHECK_MSG(fabs(rate / 100 - 1) < 0.02, "burst job rate %.2f /s, expected 100", rate);
}

static void test_uniform(void)
{
	uint64_t s = 1;
	double lo = 1, hi = 0, sum = 0;

	for (int i = 0; i < 100000; i++) {
		double u = mmpp_uniform(&s);
		lo = u < lo ? u : lo;
		hi = u > hi ? u : hi;
		sum += u;
	}
	CHECK_MSG(lo > 0 && hi < 1, "uniform in (0, 1): [%g, %g]", lo, hi);
	CHECK_MSG(fabs(sum / 100000 - 0.5) < 0.01, "uniform mean %g", sum / 100000);
}

int main(void)
{
	test_reproducible();
	test_statistics();
	test_uniform();
	if (check_failures)
		fprintf(stderr, "%d check(s) failed\n", check_failures);
	else
		printf("mmpp_model: all checks passed\n");
	return check_failures ? 1 : 0;
}
