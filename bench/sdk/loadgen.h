/*
 * Load generators: same shape as mechanisms (one folder, one ops struct,
 * self-registration). start() returns once the load is steady; stop() ends it
 * and reports the load actually achieved (not the one requested) into
 * ctx->report. Loads run in their own processes, in the case's process group,
 * so the harness can always kill them.
 */
#pragma once
#include "mechanism.h"

#define LOADGEN_ABI_VERSION 1

struct load_ctx {
	const struct loadgen_ops *ops;
	void *cfg;
	void *priv;
	int cpu;                 /* the case's peer CPU: where loads go by default */
	int case_cpu;            /* the case's measuring CPU */
	const struct tsc_info *tsc;
	struct report *report;
	char why[256];
};

struct loadgen_ops {
	const char *name;
	unsigned abi_version;
	unsigned flags;          /* enum mech_flags */
	const char *help;
	const struct opt_desc *opts;
	size_t cfg_size;
	int (*probe)(struct load_ctx *ctx);
	int (*start)(struct load_ctx *ctx);
	int (*stop)(struct load_ctx *ctx);
};

int load_why(struct load_ctx *ctx, int rc, const char *fmt, ...) BENCH_PRINTF(3, 4);

/* Called by LOADGEN_REGISTER before main(); the registry (harness) checks the table. */
void loadgen_register(const struct loadgen_ops *ops);

#define LOADGEN_REGISTER(ops_var) \
	__attribute__((constructor)) static void register_##ops_var(void) \
	{ loadgen_register(&(ops_var)); }
