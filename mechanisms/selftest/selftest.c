/*
 * selftest: a mechanism that misbehaves on purpose, so the harness's fault
 * handling is tested through the same path as every real mechanism: a hang
 * is killed at the timeout, a crash is reported with its signal, a leaked
 * peer process is killed with the case's process group.
 */
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "mechanism.h"

/* The mechanism's measure (ok, leak-peer, and sigkill should it survive): probe pairs like null. */
static int probe_pairs_measure(struct mech_ctx *ctx, struct samples *s)
{
	(void)ctx;
	while (!samples_full(s)) {
		uint64_t t0 = tsc_start();
		uint64_t t1 = tsc_end();
		samples_add(s, t1 - t0);
	}
	return BENCH_OK;
}

static int hang_measure(struct mech_ctx *ctx, struct samples *s)
{
	(void)ctx;
	(void)s;
	for (;;)
		pause();
	return BENCH_FAIL;   /* not reached */
}

static int ignore_term_measure(struct mech_ctx *ctx, struct samples *s)
{
	signal(SIGTERM, SIG_IGN);
	return hang_measure(ctx, s);
}

static int sigkill_measure(struct mech_ctx *ctx, struct samples *s)
{
	raise(SIGKILL);
	return probe_pairs_measure(ctx, s);
}

static int fail_setup(struct mech_ctx *ctx)
{
	return mech_why(ctx, BENCH_FAIL, "selftest: failing on purpose");
}

static int skip_probe(struct mech_ctx *ctx)
{
	return mech_why(ctx, BENCH_SKIP, "selftest: skipping on purpose");
}

static int leak_peer_setup(struct mech_ctx *ctx)
{
	pid_t pid = fork();
	if (pid < 0)
		return mech_why_errno(ctx, BENCH_FAIL, "fork");
	if (pid == 0) {
		prctl(PR_SET_NAME, "gapbench-leak");
		for (;;)
			pause();
	}
	return BENCH_OK;
}

static int exit_measure(struct mech_ctx *ctx, struct samples *s)
{
	(void)ctx;
	(void)s;
	_exit(3);
}

/* Each misbehaviour is its variant's own op; the rest is the mechanism's (probe pairs). */
static const struct variant_desc selftest_variants[] = {
	{ .name = "ok", .help = "records probe pairs like null and succeeds" },
	{ .name = "hang", .help = "measure() never returns: the case must end in `timeout`", .measure = hang_measure },
	{ .name = "ignore-term", .help = "hangs and ignores SIGTERM: needs the SIGKILL after the grace period",
	  .measure = ignore_term_measure },
	{ .name = "sigkill", .help = "the case process kills itself: status `signal: 9`", .measure = sigkill_measure },
	{ .name = "fail", .help = "setup() fails with a reason", .setup = fail_setup },
	{ .name = "skip", .help = "probe() says this machine cannot run it", .probe = skip_probe },
	{ .name = "leak-peer", .help = "forks a peer named gapbench-leak and never reaps it", .setup = leak_peer_setup },
	{ .name = "exit", .help = "the case process exits with status 3 in measure()", .measure = exit_measure },
	{ NULL, NULL },
};

static const struct mechanism_ops selftest_ops = {
	.name = "selftest",
	.abi_version = MECHANISM_ABI_VERSION,
	.help = "harness self-test: variants that hang, crash, fail or leak on purpose",
	.variants = selftest_variants,
	.unit = SAMPLE_CYCLES,
	.measure = probe_pairs_measure,
};
MECHANISM_REGISTER(selftest_ops)
