/* The CPU service manager's state, shared by csm_manager.c and csm_results.c. */
#pragma once
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "csm_apps.h"
#include "csm_ctl.h"
#include "mechanism.h"
#include "sandbox.h"

struct sm_state {
	struct csm_apps apps;
	struct csm_ctl *ctl;               /* the sandbox's data for sm-extension, else local_ctl */
	struct csm_ctl local_ctl;
	double targets[CSM_APPS_MAX];
	double gains[3];                   /* kp, ki (1/s), kd (s) */
	uint64_t tick_ns, window_ns;
	uint64_t prev_used_ns[CSM_APPS_MAX];   /* the monitor's last reading */
	uint64_t signals_sent;
	/* per tick, for utilization.csv: TSC and the apps' cumulative CPU ns */
	uint64_t *t_cycles;
	uint64_t *cum_ns;                  /* [tick * CSM_APPS_MAX + app] */
	bool *allowed;                     /* some app may run until the next tick (the decision just made) */
	size_t n_ticks, max_ticks;
	/* sm-extension */
	struct sandbox sb;
	bool have_sb, timer_set, handler_set, mask_set;
	timer_t timer;
	struct sigaction old_act;
	sigset_t old_mask;
	struct samples *s;
	volatile int ext_errno;
};

/* Write data/CASE/utilization.csv and the per-app summary into the report (csm_results.c). */
void sm_write_results(struct mech_ctx *ctx, const struct sm_state *m);
