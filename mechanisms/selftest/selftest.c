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

enum { V_OK, V_HANG, V_IGNORE_TERM, V_SIGKILL, V_FAIL, V_SKIP, V_LEAK_PEER, V_EXIT };

static const struct variant_desc selftest_variants[] = {
	[V_OK] = { "ok", "records probe pairs like null and succeeds" },
	[V_HANG] = { "hang", "measure() never returns: the case must end in `timeout`" },
	[V_IGNORE_TERM] = { "ignore-term", "hangs and ignores SIGTERM: needs the SIGKILL after the grace period" },
	[V_SIGKILL] = { "sigkill", "the case process kills itself: status `signal: 9`" },
	[V_FAIL] = { "fail", "setup() fails with a reason" },
	[V_SKIP] = { "skip", "probe() says this machine cannot run it" },
	[V_LEAK_PEER] = { "leak-peer", "forks a peer named gapbench-leak and never reaps it" },
	[V_EXIT] = { "exit", "the case process exits with status 3 in measure()" },
	{ NULL, NULL },
};

static int selftest_probe(struct mech_ctx *ctx)
{
	if (ctx->variant == V_SKIP)
		return mech_why(ctx, BENCH_SKIP, "selftest: skipping on purpose");
	return BENCH_OK;
}

static int selftest_setup(struct mech_ctx *ctx)
{
	if (ctx->variant == V_FAIL)
		return mech_why(ctx, BENCH_FAIL, "selftest: failing on purpose");
	if (ctx->variant == V_LEAK_PEER) {
		pid_t pid = fork();
		if (pid < 0)
			return mech_why_errno(ctx, BENCH_FAIL, "fork");
		if (pid == 0) {
			prctl(PR_SET_NAME, "gapbench-leak");
			for (;;)
				pause();
		}
	}
	return BENCH_OK;
}

static int selftest_measure(struct mech_ctx *ctx, struct samples *s)
{
	switch (ctx->variant) {
	case V_IGNORE_TERM:
		signal(SIGTERM, SIG_IGN);
		/* fall through */
	case V_HANG:
		for (;;)
			pause();
	case V_SIGKILL:
		raise(SIGKILL);
		break;
	case V_EXIT:
		_exit(3);
	default:
		break;
	}
	while (!samples_full(s)) {
		uint64_t t0 = tsc_start();
		uint64_t t1 = tsc_end();
		samples_add(s, t1 - t0);
	}
	return BENCH_OK;
}

static const struct mechanism_ops selftest_ops = {
	.name = "selftest",
	.abi_version = MECHANISM_ABI_VERSION,
	.help = "harness self-test: variants that hang, crash, fail or leak on purpose",
	.variants = selftest_variants,
	.unit = SAMPLE_CYCLES,
	.probe = selftest_probe,
	.setup = selftest_setup,
	.measure = selftest_measure,
};
MECHANISM_REGISTER(selftest_ops)
