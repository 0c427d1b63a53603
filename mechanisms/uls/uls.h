/*
 * uls: the ULS / SafeX experiments of seed 001 (West et al.), one mechanism
 * with a variant per measurement. uls.c holds the variant and option tables
 * and hands each variant to its family:
 *
 *   upcall.c     experiments 1-3: raw upcall, upcall + protection toggle,
 *                toggle + TLB reload alone (sandbox.c is the sandbox)
 *   ipc.c        experiment 5: 4-byte message round trips, working set
 *   csm_*.c      experiment 6: the CPU service manager and its costs
 *
 * Experiment 4 (signal to the current / another process) is the `signal`
 * mechanism, run by the same suite.
 */
#pragma once
#include <stdint.h>

#include "mechanism.h"

enum uls_variant {
	V_UPCALL,            /* exp 1 */
	V_UPCALL_MPROTECT,   /* exp 2 */
	V_UPCALL_PKEY,
	V_TLB_MPROTECT,      /* exp 3 */
	V_TLB_PKEY,
	V_IPC_THREAD,        /* exp 5 */
	V_IPC_PROCESS,
	V_SM_USER,           /* exp 6: the managers */
	V_SM_EXTENSION,
	V_SM_SIGNAL,         /* exp 6: the costs SafeX tabulates */
	V_SM_CTXSW,
	V_SM_PROC_STAT,
	V_SM_CPUCLOCK,
	V_COUNT
};

#define ULS_APPS 3

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

/* A family runs some variants; ctx->priv is its own state. */
struct uls_family {
	int (*setup)(struct mech_ctx *ctx);
	int (*measure)(struct mech_ctx *ctx, struct samples *s);
	void (*teardown)(struct mech_ctx *ctx);
};

extern const struct uls_family uls_upcall_family;   /* upcall.c */
extern const struct uls_family uls_ipc_family;      /* ipc.c */
extern const struct uls_family uls_sm_family;       /* csm_manager.c */
extern const struct uls_family uls_sm_cost_family;  /* csm_costs.c */
