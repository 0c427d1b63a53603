/*
 * timer: cyclic timer wake-up latency as rt-tests' cyclictest measures it,
 * the native baseline for seed 004 (Karma: native worst case under load
 * 14 us, 25 us in a VM).
 *
 *   nanosleep   our own loop on the case's main thread (pinned to ctx->cpu
 *               at ctx->priority by the harness): absolute
 *               clock_nanosleep(CLOCK_MONOTONIC) to start + k * interval,
 *               latency = clock_gettime(CLOCK_MONOTONIC) after waking minus
 *               that deadline.
 *   cyclictest  cyclictest itself, one thread on the same CPU, priority and
 *               interval, its histogram turned back into samples
 *               (cyclictest.c).
 *
 * Both skip periods that had already passed on waking, as cyclictest does;
 * the native loop counts them as missed (coordinated omission), cyclictest
 * does not say.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include "mechanism.h"
#include "timer.h"

/* Both variants'. */
static const struct opt_desc timer_opts[] = {
	OPT_INT_FIELD(struct timer_cfg, interval_us, "1000", 50, 1000000, "us", "period of the cyclic wake-up"),
	OPT_TABLE_END,
};

static const struct opt_desc cyclictest_opts[] = {
	OPT_BOOL_FIELD(struct timer_cfg, ct_nsecs, "true",
		       "cyclictest: -N, histogram buckets of 1 ns (cyclictest caps the range at 1000 us) "
		       "instead of 1 us"),
	OPT_INT_FIELD(struct timer_cfg, ct_hist_us, "1000", 1, 1000000, "us",
		      "cyclictest: histogram range (-h); samples beyond it are recorded at cyclictest's max"),
	OPT_TABLE_END,
};

/* What the harness set on this thread, read back rather than assumed. */
static void report_sched(struct mech_ctx *ctx)
{
	struct sched_param sp;
	int policy = sched_getscheduler(0);

	if (policy < 0 || sched_getparam(0, &sp)) {
		report_kv(ctx->report, "thread", "sched_getscheduler: %s", strerror(errno));
		return;
	}
	report_kv(ctx->report, "thread", "%s",
		  policy == SCHED_FIFO ? "SCHED_FIFO" : policy == SCHED_OTHER ? "SCHED_OTHER" : "other policy");
	report_int(ctx->report, "thread_priority", sp.sched_priority, "");
	report_int(ctx->report, "thread_cpu", sched_getcpu(), "");   /* requested: settings in meta.json */
}

static int check_duration(struct mech_ctx *ctx, uint64_t loops)
{
	const struct timer_cfg *cfg = ctx->cfg;
	uint64_t run_ns = timer_run_ns(cfg, loops);

	if (ctx->timeout_ns && run_ns >= ctx->timeout_ns)
		return mech_why(ctx, BENCH_FAIL, "%llu loops of %lld us take %.1f s, the case timeout is %.1f s",
				(unsigned long long)loops, (long long)cfg->interval_us,
				run_ns / 1e9, ctx->timeout_ns / 1e9);
	return BENCH_OK;
}

static void report_missed(struct mech_ctx *ctx, uint64_t missed, uint64_t missed_warmup)
{
	report_int(ctx->report, "missed_periods", (int64_t)missed, "periods");
	report_int(ctx->report, "missed_periods_warmup", (int64_t)missed_warmup, "periods");
}

static int nanosleep_measure(struct mech_ctx *ctx, struct samples *s)
{
	const struct timer_cfg *cfg = ctx->cfg;
	uint64_t interval_ns = (uint64_t)cfg->interval_us * NSEC_PER_USEC;
	/* a duration_s case: the periods until its deadline, warm-up included */
	uint64_t loops = s->deadline_tsc ? timer_case_loops(ctx, cfg, s) : s->cap + s->warmup_target;
	uint64_t missed = 0, missed_warmup = 0;

	int rc = check_duration(ctx, loops);
	if (rc)
		return rc;
	report_int(ctx->report, "loops", (int64_t)loops, "loops");   /* samples + warm-up */
	report_kv(ctx->report, "clock", "CLOCK_MONOTONIC, absolute clock_nanosleep, woken time by clock_gettime");
	report_sched(ctx);

	uint64_t now_ns = timer_mono_ns();
	uint64_t next_ns = now_ns + interval_ns;
	while (!samples_full(s)) {
		struct timespec deadline = {
			.tv_sec = (time_t)(next_ns / NSEC_PER_SEC),
			.tv_nsec = (long)(next_ns % NSEC_PER_SEC),
		};
		int err = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL);
		if (err == EINTR)
			continue;   /* same deadline again */
		if (err)
			return mech_why(ctx, BENCH_FAIL, "clock_nanosleep: %s", strerror(err));
		now_ns = timer_mono_ns();
		if (now_ns < next_ns)
			return mech_why(ctx, BENCH_FAIL, "woke %llu ns before the deadline",
					(unsigned long long)(next_ns - now_ns));

		bool warm = s->warmup_discarded < s->warmup_target;
		samples_add(s, now_ns - next_ns);
		next_ns += interval_ns;
		if (now_ns > next_ns) {
			/* Later deadlines passed while we were late: skip them, count them. */
			uint64_t skipped = (now_ns - next_ns + interval_ns - 1) / interval_ns;
			next_ns += skipped * interval_ns;
			if (warm)
				missed_warmup += skipped;
			else
				missed += skipped;
		}
	}
	s->missed = missed;
	report_missed(ctx, missed, missed_warmup);
	return BENCH_OK;
}

static void report_interval(struct mech_ctx *ctx)
{
	const struct timer_cfg *cfg = ctx->cfg;

	report_int(ctx->report, "interval_us", cfg->interval_us, "us");
}

static int nanosleep_setup(struct mech_ctx *ctx)
{
	report_interval(ctx);
	return BENCH_OK;
}

static int cyclictest_setup(struct mech_ctx *ctx)
{
	report_interval(ctx);
	return ct_setup(ctx);
}

static int cyclictest_measure(struct mech_ctx *ctx, struct samples *s)
{
	const struct timer_cfg *cfg = ctx->cfg;
	int rc = check_duration(ctx, timer_case_loops(ctx, cfg, s));
	return rc ? rc : ct_measure(ctx, s);
}

static const struct variant_desc timer_variants[] = {
	{ .name = "nanosleep", .help = "absolute clock_nanosleep(CLOCK_MONOTONIC) loop, latency = wake - deadline",
	  .setup = nanosleep_setup, .measure = nanosleep_measure },
	{ .name = "cyclictest",
	  .help = "rt-tests' cyclictest -t1 with the same CPU, priority and interval, from its histogram",
	  .opts = cyclictest_opts, .probe = ct_probe, .setup = cyclictest_setup, .measure = cyclictest_measure,
	  .teardown = ct_teardown },
	{ NULL, NULL },
};

/* Samples are CLOCK_MONOTONIC ns (cyclictest's too): nothing to subtract. */
static const struct mechanism_ops timer_ops = {
	.name = "timer",
	.abi_version = MECHANISM_ABI_VERSION,
	.help = "cyclic timer wake-up latency, native loop and rt-tests' cyclictest (Karma, seed 004)",
	.variants = timer_variants,
	.opts = timer_opts,
	.cfg_size = sizeof(struct timer_cfg),
	.priv_size = sizeof(struct ct_run),
	.unit = SAMPLE_NS,
};
MECHANISM_REGISTER(timer_ops)
