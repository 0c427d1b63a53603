/*
 * The one interface: every mechanism is a folder under mechanisms/ holding
 * one struct mechanism_ops, registered by MECHANISM_REGISTER(). A variant is
 * an experiment: it may carry its own options, unit, flags and ops; where it
 * leaves one out, the mechanism's is used. The harness runs each case in its
 * own child process:
 *
 *   probe()    can it run here? (no side effects; NULL = always)
 *   setup()    untimed: spawn peers, open fds, prefault, sync checks
 *   measure()  the timed loop: fill `s` with raw values until samples_full()
 *   teardown() safe after a failed setup, safe twice
 *
 * probe/setup/measure return BENCH_OK, BENCH_SKIP (with the reason in
 * ctx->why: the machine cannot run it, which is data, not an error) or
 * BENCH_FAIL (reason in ctx->why).
 *
 * State lives in ctx->priv: the harness allocates priv_size zeroed bytes
 * before probe() and frees them after teardown(). No file-scope state.
 *
 * Smallest mechanism: mechanisms/null/. Smallest with several experiments,
 * each with its own option and unit: mechanisms/clock/.
 */
#pragma once
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "compiler.h"
#include "opts.h"
#include "report.h"
#include "samples.h"
#include "tsc.h"

#define MECHANISM_ABI_VERSION 3

enum bench_rc { BENCH_OK = 0, BENCH_SKIP = 1, BENCH_FAIL = -1 };

enum mech_flags {
	MECH_NEEDS_ROOT = 1u << 0,
	MECH_NEEDS_2CPUS = 1u << 1,
	MECH_NEEDS_KVM = 1u << 2,
	/* A gapbench kernel module (kmods/, named by variant_desc.kmod) must be loaded: else a skip
	   that names it. Every variant with this flag names its module. */
	MECH_NEEDS_KMOD = 1u << 3,
	/* The parent subtracts the measured probe overhead (min) from each sample:
	   for experiments whose every sample is one span between tsc_start() and tsc_end(). */
	MECH_SUBTRACT_PROBE_OVERHEAD = 1u << 4,
};

struct mech_ctx;

/* An experiment. Every field but name and help is optional. */
struct variant_desc {
	const char *name;
	const char *help;
	unsigned flags;                        /* added to the mechanism's flags */
	enum sample_unit unit;                 /* SAMPLE_UNIT_DEFAULT: the mechanism's */
	const struct opt_desc *opts;           /* this experiment's options, beside the mechanism's own */
	int (*probe)(struct mech_ctx *ctx);    /* each NULL: the mechanism's */
	int (*setup)(struct mech_ctx *ctx);
	int (*measure)(struct mech_ctx *ctx, struct samples *s);
	void (*teardown)(struct mech_ctx *ctx);
	const char *kmod;                      /* MECH_NEEDS_KMOD: the module (e.g. "gapbench_hijack") */
};

struct mech_ctx {
	const struct mechanism_ops *ops;
	const struct variant_desc *exp;  /* the case's experiment (ops->variants[variant]) */
	unsigned variant;              /* index into ops->variants */
	const char *variant_name;
	void *cfg;                     /* ops->cfg_size bytes, filled from opts */
	void *priv;                    /* ops->priv_size zeroed bytes: the mechanism's own state */
	int cpu;                       /* CPU of the measuring thread, -1 = unpinned */
	int peer_cpu;                  /* CPU for peers, -1 = unpinned */
	int priority;                  /* SCHED_FIFO priority, 0 = SCHED_OTHER */
	bool mlock;                    /* peers lock their memory too (mlockall is not inherited) */
	uint64_t timeout_ns;           /* the case's timeout, for internal waits */
	const struct tsc_info *tsc;
	struct report *report;         /* facts for meta.json */
	const char *data_dir;          /* DIR/data/CASE/: the case's own files (time series...),
					  written outside measure(); created by the harness */
	char why[256];                 /* reason for SKIP/FAIL */
	/* the harness's: ends the case process at once with rc and why (mech_abort) */
	void (*abort_case)(struct mech_ctx *ctx, int rc);
	void *harness_priv;
};

struct mechanism_ops {
	const char *name;
	unsigned abi_version;
	unsigned flags;                        /* enum mech_flags, for every experiment */
	const char *help;
	const struct variant_desc *variants;   /* NULL-name terminated, at least one */
	const struct opt_desc *opts;           /* options of every experiment; may be NULL */
	size_t cfg_size;                       /* one struct holds every experiment's options */
	size_t priv_size;                      /* ctx->priv */
	enum sample_unit unit;                 /* what measure() records; SAMPLE_UNIT_DEFAULT = cycles */
	/* The warm-up where a suite sets none: 0 = the harness's (1000 samples); a mechanism whose one
	   sample is a whole job (a build of seconds) names its own, e.g. 1. */
	int64_t warmup_samples;
	int (*probe)(struct mech_ctx *ctx);
	int (*setup)(struct mech_ctx *ctx);
	int (*measure)(struct mech_ctx *ctx, struct samples *s);
	void (*teardown)(struct mech_ctx *ctx);
};

/* Set ctx->why; returns rc so that `return mech_why(ctx, BENCH_SKIP, ...)` reads well. */
int mech_why(struct mech_ctx *ctx, int rc, const char *fmt, ...) BENCH_PRINTF(3, 4);
/* Same, appending ": strerror(errno)". */
int mech_why_errno(struct mech_ctx *ctx, int rc, const char *fmt, ...) BENCH_PRINTF(3, 4);
/*
 * End the case now, from any thread (a watcher that saw a peer die while the
 * measuring thread is blocked on it): the case's status is rc with this
 * reason; teardown does not run, the harness kills what the case left.
 */
__attribute__((noreturn)) void mech_abort(struct mech_ctx *ctx, int rc, const char *fmt, ...) BENCH_PRINTF(3, 4);

/*
 * The one formatter behind every "why" buffer (mech_why, load_why, and a
 * mechanism's own, such as a VMM's): vsnprintf into buf, with ": strerror"
 * of the errno at entry appended when with_errno. Returns rc.
 */
int bench_vwhy(char *buf, size_t len, int rc, bool with_errno, const char *fmt, va_list ap) BENCH_PRINTF(5, 0);

/* Called by MECHANISM_REGISTER before main(); the registry (harness) checks the tables. */
void mechanism_register(const struct mechanism_ops *ops);

#define MECHANISM_REGISTER(ops_var) \
	__attribute__((constructor)) static void register_##ops_var(void) \
	{ mechanism_register(&(ops_var)); }
