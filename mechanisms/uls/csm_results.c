/*
 * The service manager's results: utilization per app per window against
 * its target, as data/CASE/utilization.csv, and a one-line summary per app
 * in the case's report. Runs in teardown, never while measuring.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csm_manager.h"

#define SM_MAX_WINDOWS 100000

static int write_csv(const char *path, const struct sm_state *m, const double *share, size_t windows)
{
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return errno;
	fprintf(f, "window,t_start_s,app,priority,target_share,measured_share,share_error\n");
	for (size_t w = 0; w < windows; w++)
		for (unsigned i = 0; i < m->apps.n; i++) {
			double got = share[w * CSM_APPS_MAX + i];
			fprintf(f, "%zu,%.3f,%u,%d,%.4f,%.4f,%.4f\n", w, (double)(w * m->window_ns) / 1e9, i + 1,
				m->apps.priority[i], m->targets[i], got, got - m->targets[i]);
		}
	int err = ferror(f) ? EIO : 0;
	if (fclose(f) != 0 && !err)
		err = errno;
	if (!err && rename(tmp, path) != 0)
		err = errno;
	return err;
}

void sm_write_results(struct mech_ctx *ctx, const struct sm_state *m)
{
	if (m->n_ticks < 2 || !ctx->data_dir)
		return;
	uint64_t *t_ns = malloc(m->n_ticks * sizeof(*t_ns));
	double *share = malloc(SM_MAX_WINDOWS * CSM_APPS_MAX * sizeof(*share));
	if (!t_ns || !share) {
		report_kv(ctx->report, "utilization_csv", "not written: out of memory");
		free(t_ns);
		free(share);
		return;
	}
	for (size_t k = 0; k < m->n_ticks; k++)
		t_ns[k] = tsc_cycles_to_ns(m->t_cycles[k] - m->t_cycles[0], ctx->tsc->tsc_khz);
	size_t windows = csm_window_shares(t_ns, m->cum_ns, m->n_ticks, CSM_APPS_MAX, m->window_ns, share,
					   SM_MAX_WINDOWS);
	char path[4096];
	snprintf(path, sizeof(path), "%s/utilization.csv", ctx->data_dir);
	int err = write_csv(path, m, share, windows);
	if (err)
		report_kv(ctx->report, "utilization_csv", "not written: %s", strerror(err));
	else {
		report_kv(ctx->report, "utilization_csv", "utilization.csv");
		report_int(ctx->report, "utilization_windows", (int64_t)windows, "");
		report_int(ctx->report, "utilization_window_ms", (int64_t)(m->window_ns / 1000000u), "ms");
	}
	/* The summary (windows 1..N-1) skips the first window: the controller starts from scratch there. */
	for (unsigned i = 0; i < m->apps.n && windows > 1; i++) {
		double sum = 0, worst = 0;
		for (size_t w = 1; w < windows; w++) {
			double e = share[w * CSM_APPS_MAX + i] - m->targets[i];
			sum += share[w * CSM_APPS_MAX + i];
			if (fabs(e) > fabs(worst))
				worst = e;
		}
		char key[REPORT_KEY_MAX];
		snprintf(key, sizeof(key), "app%u_share_target", i + 1);
		report_real(ctx->report, key, m->targets[i], "CPU share");
		snprintf(key, sizeof(key), "app%u_share_mean", i + 1);
		report_real(ctx->report, key, sum / (double)(windows - 1), "CPU share");
		snprintf(key, sizeof(key), "app%u_share_worst_error", i + 1);
		report_real(ctx->report, key, worst, "CPU share");
	}
	free(t_ns);
	free(share);
}
