/*
 * null: back-to-back probe reads, nothing between them. This is the harness's
 * own noise floor: every other mechanism's numbers include at least this.
 */
#include "mechanism.h"

static const struct variant_desc null_variants[] = {
	{ "probe", "tsc_start() immediately followed by tsc_end()" },
	{ NULL, NULL },
};

static int null_measure(struct mech_ctx *ctx, struct samples *s)
{
	(void)ctx;
	while (!samples_full(s)) {
		uint64_t t0 = tsc_start();
		uint64_t t1 = tsc_end();
		samples_add(s, t1 - t0);
	}
	return BENCH_OK;
}

static const struct mechanism_ops null_ops = {
	.name = "null",
	.abi_version = MECHANISM_ABI_VERSION,
	.help = "back-to-back TSC probe reads: the measurement's own noise floor",
	.variants = null_variants,
	.unit = SAMPLE_CYCLES,
	.measure = null_measure,
};
MECHANISM_REGISTER(null_ops)
