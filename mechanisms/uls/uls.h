/*
 * uls: the ULS / SafeX experiments of seed 001 (West et al.), one mechanism
 * with a variant per measurement. uls.c holds the variant and option tables;
 * every variant row names its own ops, which live with their experiment:
 *
 *   upcall.c     experiments 1-3: raw upcall, upcall + protection toggle,
 *                toggle + TLB reload alone (sandbox.c is the sandbox)
 *   ipc.c        experiment 5: 4-byte message round trips, working set
 *   csm_*.c      experiment 6: the CPU service manager and its costs
 *
 * Experiment 4 (signal to the current / another process) is the `signal`
 * mechanism, run by the same suite.
 *
 * Each experiment allocates its own state into ctx->priv in setup and frees
 * it in teardown (the states differ, so the mechanism has no priv_size).
 */
#pragma once
#include <stdint.h>

#include "mechanism.h"

#define ULS_APPS 3

/* Every variant's options; each variant's table names only the fields it reads. */
struct uls_cfg {
	int64_t working_set_pages;
	int ipc_placement;                 /* enum placement: split or same */
	int64_t share1_pct, share2_pct, share3_pct;   /* target CPU shares of the three apps */
	int64_t tick_us;                   /* the service manager's period */
	int64_t manager_priority;
	int64_t kp_milli, ki_milli, kd_milli;
	int64_t window_ms;                 /* utilization CSV interval */
};

static inline int64_t uls_share_pct(const struct uls_cfg *cfg, unsigned app)
{
	return app == 0 ? cfg->share1_pct : app == 1 ? cfg->share2_pct : cfg->share3_pct;
}

/* upcall.c: experiments 1-3 */
int uls_pkey_probe(struct mech_ctx *ctx);
int uls_upcall_setup(struct mech_ctx *ctx);
int uls_upcall_mprotect_setup(struct mech_ctx *ctx);
int uls_upcall_pkey_setup(struct mech_ctx *ctx);
int uls_tlb_mprotect_setup(struct mech_ctx *ctx);
int uls_tlb_pkey_setup(struct mech_ctx *ctx);
int uls_upcall_measure(struct mech_ctx *ctx, struct samples *s);
int uls_tlb_measure(struct mech_ctx *ctx, struct samples *s);
void uls_upcall_teardown(struct mech_ctx *ctx);

/* ipc.c: experiment 5 */
int uls_ipc_probe(struct mech_ctx *ctx);
int uls_ipc_thread_setup(struct mech_ctx *ctx);
int uls_ipc_process_setup(struct mech_ctx *ctx);
int uls_ipc_measure(struct mech_ctx *ctx, struct samples *s);
void uls_ipc_teardown(struct mech_ctx *ctx);

/* csm_manager.c: experiment 6, the managers */
int uls_sm_probe(struct mech_ctx *ctx);
int uls_sm_user_setup(struct mech_ctx *ctx);
int uls_sm_extension_setup(struct mech_ctx *ctx);
int uls_sm_user_measure(struct mech_ctx *ctx, struct samples *s);
int uls_sm_extension_measure(struct mech_ctx *ctx, struct samples *s);
void uls_sm_teardown(struct mech_ctx *ctx);

/* csm_costs.c: experiment 6, the costs SafeX tabulates */
int uls_sm_cost_setup(struct mech_ctx *ctx);
int uls_sm_signal_measure(struct mech_ctx *ctx, struct samples *s);
int uls_sm_ctxsw_measure(struct mech_ctx *ctx, struct samples *s);
int uls_sm_proc_stat_measure(struct mech_ctx *ctx, struct samples *s);
int uls_sm_cpuclock_measure(struct mech_ctx *ctx, struct samples *s);
void uls_sm_cost_teardown(struct mech_ctx *ctx);
