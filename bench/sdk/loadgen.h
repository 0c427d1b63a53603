/*
 * Load generators: same shape as mechanisms (one folder, one ops struct,
 * self-registration). start() returns once the load is steady; stop() ends it
 * and reports the load actually achieved (not the one requested) into
 * ctx->report. Loads run in their own processes, in the case's process group,
 * so the harness can always kill them.
 *
 * State lives in ctx->priv: the harness allocates priv_size zeroed bytes
 * before probe() and frees them after stop(). No file-scope state. A load's
 * processes forked in start() get their own copy of it (private memory):
 * what they share with the case process goes in peer_shared_alloc() memory.
 */
#pragma once
#include "mechanism.h"

#define LOADGEN_ABI_VERSION 2   /* 2: priv_size */

struct load_ctx {
	const struct loadgen_ops *ops;
	void *cfg;
	void *priv;              /* ops->priv_size zeroed bytes: the load's own state */
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
	size_t priv_size;        /* ctx->priv */
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
