/*
 * clock: the time sources every other mechanism relies on, as two
 * experiments. It is also the smallest mechanism with several experiments:
 * copy it. Each variant row names its own measure(), its own options and
 * its own unit; nothing dispatches on the variant.
 *
 *   read    one clock_gettime() of `clock`, between two TSC probes
 *           (TSC cycles, probe overhead subtracted: one probed span)
 *   sleep   clock_nanosleep() of `sleep_ns` on CLOCK_MONOTONIC: how late
 *           the wake-up is, measured on that clock (ns)
 */
#include <errno.h>
#include <time.h>

#include "mechanism.h"

struct clock_cfg {
	int clock;          /* read: index into clock_names */
	int64_t sleep_ns;   /* sleep: the relative sleep requested */
};

static const char *const clock_names[] = { "monotonic", "realtime", "monotonic_raw", "boottime", NULL };
static const clockid_t clock_ids[] = { CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME };

static const struct opt_desc read_opts[] = {
	OPT_ENUM_FIELD(struct clock_cfg, clock, "monotonic", clock_names, "the clock read (vDSO where the kernel offers it)"),
	OPT_TABLE_END,
};

static const struct opt_desc sleep_opts[] = {
	OPT_INT_FIELD(struct clock_cfg, sleep_ns, "50000", 1, 1000000000, "ns", "the relative sleep requested"),
	OPT_TABLE_END,
};

static int read_measure(struct mech_ctx *ctx, struct samples *s)
{
	const struct clock_cfg *cfg = ctx->cfg;
	clockid_t id = clock_ids[cfg->clock];
	struct timespec ts;
	if (clock_gettime(id, &ts) != 0)
		return mech_why_errno(ctx, BENCH_SKIP, "clock_gettime(%s)", clock_names[cfg->clock]);
	while (!samples_full(s)) {
		uint64_t t0 = tsc_start();
		clock_gettime(id, &ts);
		uint64_t t1 = tsc_end();
		samples_add(s, t1 - t0);
	}
	return BENCH_OK;
}

static uint64_t ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

static int sleep_measure(struct mech_ctx *ctx, struct samples *s)
{
	const struct clock_cfg *cfg = ctx->cfg;
	const struct timespec req = { .tv_sec = cfg->sleep_ns / 1000000000, .tv_nsec = cfg->sleep_ns % 1000000000 };
	while (!samples_full(s)) {
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		int rc = clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL);
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (rc != 0) {
			errno = rc;
			return mech_why_errno(ctx, BENCH_FAIL, "clock_nanosleep");
		}
		uint64_t slept_ns = ts_ns(&b) - ts_ns(&a);
		samples_add(s, slept_ns > (uint64_t)cfg->sleep_ns ? slept_ns - (uint64_t)cfg->sleep_ns : 0);
	}
	return BENCH_OK;
}

static const struct variant_desc clock_variants[] = {
	{ .name = "read", .help = "one clock_gettime() of `clock` between two TSC probes",
	  .flags = MECH_SUBTRACT_PROBE_OVERHEAD, .unit = SAMPLE_CYCLES, .opts = read_opts, .measure = read_measure },
	{ .name = "sleep", .help = "clock_nanosleep() of sleep_ns on CLOCK_MONOTONIC: the wake-up's lateness",
	  .unit = SAMPLE_NS, .opts = sleep_opts, .measure = sleep_measure },
	{ NULL, NULL },
};

static const struct mechanism_ops clock_ops = {
	.name = "clock",
	.abi_version = MECHANISM_ABI_VERSION,
	.help = "clock reads and short sleeps: the time sources every other mechanism relies on",
	.variants = clock_variants,
	.cfg_size = sizeof(struct clock_cfg),
	.unit = SAMPLE_CYCLES,
};
MECHANISM_REGISTER(clock_ops)
