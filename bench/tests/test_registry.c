/*
 * The registry refuses what a suite could never reach or would reach
 * ambiguously: an option named like a case key, an experiment's option that
 * repeats one of the whole mechanism, an experiment without a measure.
 * It resolves an experiment's ops, flags, unit and options from the
 * variant first, the mechanism second.
 */
#include <string.h>

#include "check.h"
#include "registry.h"

struct cfg {
	int64_t a, b, samples;
};

static int m_measure(struct mech_ctx *ctx, struct samples *s) { (void)ctx; (void)s; return BENCH_OK; }
static int v_measure(struct mech_ctx *ctx, struct samples *s) { (void)ctx; (void)s; return BENCH_SKIP; }
static int v_setup(struct mech_ctx *ctx) { (void)ctx; return BENCH_OK; }

static const struct opt_desc common_opts[] = {
	OPT_INT_FIELD(struct cfg, a, "1", 0, 10, "", "every experiment's"), OPT_TABLE_END,
};
static const struct opt_desc b_opts[] = {
	OPT_INT_FIELD(struct cfg, b, "2", 0, 10, "ns", "experiment two's"), OPT_TABLE_END,
};
static const struct opt_desc dup_opts[] = {
	OPT_INT_FIELD(struct cfg, a, "3", 0, 10, "", "repeats the mechanism's"), OPT_TABLE_END,
};
static const struct opt_desc key_opts[] = {
	OPT_INT_FIELD(struct cfg, samples, "3", 0, 10, "", "named like a case key"), OPT_TABLE_END,
};

static const struct variant_desc good_variants[] = {
	{ .name = "one", .help = "the mechanism's everything" },
	{ .name = "two", .help = "its own", .flags = MECH_SUBTRACT_PROBE_OVERHEAD, .unit = SAMPLE_NS,
	  .opts = b_opts, .setup = v_setup, .measure = v_measure },
	{ NULL, NULL },
};
static const struct mechanism_ops good = {
	.name = "t-good", .abi_version = MECHANISM_ABI_VERSION, .flags = MECH_NEEDS_ROOT, .help = "h",
	.variants = good_variants, .opts = common_opts, .cfg_size = sizeof(struct cfg), .measure = m_measure,
};

static const struct variant_desc dup_variants[] = {
	{ .name = "one", .help = "h", .opts = dup_opts }, { NULL, NULL },
};
static const struct mechanism_ops dup = {
	.name = "t-dup", .abi_version = MECHANISM_ABI_VERSION, .help = "h", .variants = dup_variants,
	.opts = common_opts, .cfg_size = sizeof(struct cfg), .measure = m_measure,
};

static const struct variant_desc key_variants[] = {
	{ .name = "one", .help = "h", .opts = key_opts }, { NULL, NULL },
};
static const struct mechanism_ops key = {
	.name = "t-key", .abi_version = MECHANISM_ABI_VERSION, .help = "h", .variants = key_variants,
	.cfg_size = sizeof(struct cfg), .measure = m_measure,
};
static const struct mechanism_ops key_in_mech = {
	.name = "t-key-mech", .abi_version = MECHANISM_ABI_VERSION, .help = "h", .variants = good_variants,
	.opts = key_opts, .cfg_size = sizeof(struct cfg), .measure = m_measure,
};

static const struct variant_desc nomeasure_variants[] = {
	{ .name = "one", .help = "h", .measure = v_measure }, { .name = "two", .help = "no measure anywhere" },
	{ NULL, NULL },
};
static const struct mechanism_ops nomeasure = {
	.name = "t-nomeasure", .abi_version = MECHANISM_ABI_VERSION, .help = "h", .variants = nomeasure_variants,
};

static const struct variant_desc kmod_variants[] = {
	{ .name = "plain", .help = "needs nothing" },
	{ .name = "mod", .help = "needs a module", .flags = MECH_NEEDS_KMOD, .kmod = "gapbench_t" },
	{ NULL, NULL },
};
static const struct mechanism_ops kmod = {
	.name = "t-kmod", .abi_version = MECHANISM_ABI_VERSION, .help = "h", .variants = kmod_variants,
	.measure = m_measure,
};
static const struct variant_desc kmod_unnamed_variants[] = {
	{ .name = "mod", .help = "needs a module it does not name", .flags = MECH_NEEDS_KMOD }, { NULL, NULL },
};
static const struct mechanism_ops kmod_unnamed = {
	.name = "t-kmod-unnamed", .abi_version = MECHANISM_ABI_VERSION, .help = "h",
	.variants = kmod_unnamed_variants, .measure = m_measure,
};
static const struct variant_desc kmod_unflagged_variants[] = {
	{ .name = "mod", .help = "names a module without the flag", .kmod = "gapbench_t" }, { NULL, NULL },
};
static const struct mechanism_ops kmod_unflagged = {
	.name = "t-kmod-unflagged", .abi_version = MECHANISM_ABI_VERSION, .help = "h",
	.variants = kmod_unflagged_variants, .measure = m_measure,
};

static const struct opt_desc case_keys[] = {
	OPT_INT_FIELD(struct cfg, samples, "1", 0, 10, "", "a case key"), OPT_TABLE_END,
};
static const char *const special[] = { "name", "variant", NULL };

int main(void)
{
	mechanism_register(&good);
	mechanism_register(&dup);
	mechanism_register(&key);
	mechanism_register(&key_in_mech);
	mechanism_register(&nomeasure);
	mechanism_register(&kmod);
	mechanism_register(&kmod_unnamed);
	mechanism_register(&kmod_unflagged);
	CHECK(mechanism_find("t-nomeasure") == NULL);   /* refused at once */
	CHECK(mechanism_find("t-kmod-unnamed") == NULL);
	CHECK(mechanism_find("t-kmod-unflagged") == NULL);
	CHECK(mechanism_find("t-kmod") == &kmod);
	CHECK(experiment_kmod(&kmod, 0) == NULL);
	CHECK(experiment_kmod(&kmod, 1) != NULL && strcmp(experiment_kmod(&kmod, 1), "gapbench_t") == 0);
	CHECK(experiment_flags(&kmod, 1) == MECH_NEEDS_KMOD);
	CHECK(registry_seal(case_keys, special) == 3);
	CHECK(registry_seal(case_keys, special) == 0);  /* once */
	CHECK(mechanism_find("t-good") == &good);
	CHECK(mechanism_find("t-dup") == NULL);
	CHECK(mechanism_find("t-key") == NULL);
	CHECK(mechanism_find("t-key-mech") == NULL);

	/* the variant's values first, the mechanism's where it has none */
	struct experiment_ops one = experiment_ops(&good, 0), two = experiment_ops(&good, 1);
	CHECK(one.measure == m_measure && one.setup == NULL);
	CHECK(two.measure == v_measure && two.setup == v_setup);
	CHECK(experiment_flags(&good, 0) == MECH_NEEDS_ROOT);
	CHECK(experiment_flags(&good, 1) == (MECH_NEEDS_ROOT | MECH_SUBTRACT_PROBE_OVERHEAD));
	CHECK(experiment_unit(&good, 0) == SAMPLE_CYCLES);
	CHECK(experiment_unit(&good, 1) == SAMPLE_NS);
	CHECK(experiment_opt_find(&good, 0, "a") == &common_opts[0]);
	CHECK(experiment_opt_find(&good, 0, "b") == NULL);   /* not an option of "one" */
	CHECK(experiment_opt_find(&good, 1, "b") == &b_opts[0]);
	CHECK(experiment_opt_at(&good, 1, 0) == &common_opts[0]);
	CHECK(experiment_opt_at(&good, 1, 1) == &b_opts[0]);
	CHECK(experiment_opt_at(&good, 1, 2) == NULL);
	CHECK(experiment_opt_at(&good, 0, 1) == NULL);
	CHECK_DONE();
}
