/*
 * Unit test of spin's achieved rate: the iterations it counts and the wall
 * time it divides them by cover the same span. Stopped at once after
 * start(), the count must not include the time the spinners already ran
 * while start() waited for all of them (that bug reported 1.6e10
 * iterations/s over 0.0004 s); over a longer run the facts agree with each
 * other and with the time the test let the load run.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loadgen.h"

#include "check.h"

/* One CPU at one iteration per cycle stays far below this. */
#define MAX_ITERATIONS_PER_S_ONE_CPU 1e10

static const struct loadgen_ops *spin;

/* spin.c registers itself here: no registry in this test. */
void loadgen_register(const struct loadgen_ops *ops)
{
	if (strcmp(ops->name, "spin") == 0)
		spin = ops;
}

static double fact(const struct report *r, const char *key)
{
	for (unsigned i = 0; i < r->count; i++) {
		const struct report_item *it = &r->items[i];
		if (strcmp(it->key, key) == 0)
			return it->type == REPORT_INT ? (double)it->i : it->type == REPORT_REAL ? it->d : -1;
	}
	CHECK_MSG(0, "no fact %s", key);
	return -1;
}

static int first_allowed_cpu(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return -1;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			return c;
	return -1;
}

/* start(), sleep run_ms, stop(): the facts in *r. Every spinner on one CPU. */
static int run(struct report *r, int64_t spinners, unsigned run_ms)
{
	char why[256];
	void *cfg = calloc(1, spin->cfg_size);
	struct load_ctx ctx = { .ops = spin, .cfg = cfg, .priv = calloc(1, spin->priv_size),
				.cpu = first_allowed_cpu(), .case_cpu = -1, .report = r };
	memset(r, 0, sizeof(*r));
	if (!cfg || !ctx.priv || opt_apply_defaults(spin->opts, cfg, why, sizeof(why)) != 0 ||
	    opt_set_int(opt_find(spin->opts, "spinners"), cfg, spinners, why, sizeof(why)) != 0) {
		CHECK_MSG(0, "cannot set up the load's config");
		return BENCH_FAIL;
	}
	int rc = spin->start(&ctx);
	CHECK_MSG(rc == BENCH_OK, "start: %s", ctx.why);
	const struct timespec pause = { .tv_sec = run_ms / 1000, .tv_nsec = (long)(run_ms % 1000) * 1000000 };
	nanosleep(&pause, NULL);
	int stop_rc = spin->stop(&ctx);
	CHECK_MSG(stop_rc == BENCH_OK, "stop: %s", ctx.why);
	free(ctx.priv);
	free(cfg);
	return rc == BENCH_OK ? stop_rc : rc;
}

int main(void)
{
	struct report r;

	CHECK(spin != NULL);
	if (!spin)
		return 1;
	CHECK(spin->priv_size > 0);

	/* Stopped at once: a count from before start() returned would show as an impossible rate. */
	for (int i = 0; i < 5; i++) {
		if (run(&r, 3, 0) != BENCH_OK)
			break;
		double rate = fact(&r, "iterations_per_s");
		CHECK_MSG(rate < MAX_ITERATIONS_PER_S_ONE_CPU, "3 spinners on one CPU: %.3g iterations/s over %.3g s",
			  rate, fact(&r, "wall_s"));
		CHECK_NEAR(rate * fact(&r, "wall_s"), fact(&r, "iterations"), 1.0);
	}

	/* 200 ms: the wall time is the time the test let it run, the rate iterations over it. */
	if (run(&r, 2, 200) == BENCH_OK) {
		double wall_s = fact(&r, "wall_s"), rate = fact(&r, "iterations_per_s");
		double iterations = fact(&r, "iterations");
		CHECK_MSG(wall_s >= 0.2 && wall_s < 5.0, "wall_s %.6g for a 0.2 s run", wall_s);
		CHECK_MSG(iterations > 0, "no iterations in %.3g s", wall_s);
		CHECK_MSG(rate < MAX_ITERATIONS_PER_S_ONE_CPU, "2 spinners on one CPU: %.3g iterations/s", rate);
		CHECK_NEAR(rate * wall_s, iterations, 1.0);
		CHECK_EQ_U64((uint64_t)fact(&r, "spinners"), 2);
		/* two spinners share one CPU; /proc counts in clock ticks, hence the slack */
		double share = fact(&r, "cpu_share_of_one_cpu");
		CHECK_MSG(share >= 0 && share < 1.3, "cpu_share_of_one_cpu %.3g", share);
		printf("spin: %.3g iterations/s over %.3g s, %.2f of one CPU\n", rate, wall_s, share);
	}
	CHECK_DONE();
}
