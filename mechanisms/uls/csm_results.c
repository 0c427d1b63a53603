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
/* A window in which something above the apps took at least this share of their runnable time is "disturbed". */
#define SM_DISTURBED_SHARE 0.10

static int write_csv(const char *path, const struct sm_state *m, const double *share, const double *taken,
		     size_t windows)
{
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return errno;
	fprintf(f, "window,t_start_s,app,priority,target_share,measured_share,share_error,taken_share\n");
	for (size_t w = 0; w < windows; w++)
		for (unsigned i = 0; i < m->apps.n; i++) {
			double got = share[w * CSM_APPS_MAX + i];
			fprintf(f, "%zu,%.3f,%u,%d,%.4f,%.4f,%.4f,", w, (double)(w * m->window_ns) / 1e9, i + 1,
				m->apps.priority[i], m->targets[i], got, got - m->targets[i]);
			if (taken)
				fprintf(f, "%.4f\n", taken[w]);
			else
				fputs("\n", f);
		}
	int err = ferror(f) ? EIO : 0;
	if (fclose(f) != 0 && !err)
		err = errno;
	if (!err && rename(tmp, path) != 0)
		err = errno;
	return err;
}

/*
 * Where the managers differ, if anywhere: the apps' share error in the
 * windows the disturbance took CPU in (taken_share >= SM_DISTURBED_SHARE)
 * against the undisturbed ones. Windows 1..N-1, as the per-app summary.
 */
static void report_disturbance(struct mech_ctx *ctx, const struct sm_state *m, const double *share,
			       const double *taken, size_t windows)
{
	double err_sum[2] = { 0, 0 }, taken_sum[2] = { 0, 0 }, worst_disturbed = 0;
	size_t count[2] = { 0, 0 };

	for (size_t w = 1; w < windows; w++) {
		int d = taken[w] >= SM_DISTURBED_SHARE;
		count[d]++;
		taken_sum[d] += taken[w];
		for (unsigned i = 0; i < m->apps.n; i++) {
			double e = share[w * CSM_APPS_MAX + i] - m->targets[i];
			err_sum[d] += fabs(e);
			if (d && fabs(e) > fabs(worst_disturbed))
				worst_disturbed = e;
		}
	}
	report_int(ctx->report, "disturbed_windows", (int64_t)count[1], "");
	report_int(ctx->report, "quiet_windows", (int64_t)count[0], "");
	for (int d = 0; d < 2; d++) {
		if (!count[d])
			continue;
		report_real(ctx->report, d ? "taken_share_disturbed" : "taken_share_quiet", taken_sum[d] / (double)count[d],
			    "CPU share");
		report_real(ctx->report, d ? "share_abs_error_disturbed" : "share_abs_error_quiet",
			    err_sum[d] / (double)(count[d] * m->apps.n), "CPU share");
	}
	if (count[1])
		report_real(ctx->report, "share_worst_error_disturbed", worst_disturbed, "CPU share");
}

void sm_write_results(struct mech_ctx *ctx, const struct sm_state *m)
{
	if (m->n_ticks < 2 || !ctx->data_dir)
		return;
	uint64_t *t_ns = malloc(m->n_ticks * sizeof(*t_ns));
	double *share = malloc(SM_MAX_WINDOWS * CSM_APPS_MAX * sizeof(*share));
	double *taken = malloc(SM_MAX_WINDOWS * sizeof(*taken));
	if (!t_ns || !share) {
		report_kv(ctx->report, "utilization_csv", "not written: out of memory");
		free(t_ns);
		free(share);
		free(taken);
		return;
	}
	for (size_t k = 0; k < m->n_ticks; k++)
		t_ns[k] = tsc_cycles_to_ns(m->t_cycles[k] - m->t_cycles[0], ctx->tsc->tsc_khz);
	size_t windows = csm_window_shares(t_ns, m->cum_ns, m->n_ticks, CSM_APPS_MAX, m->window_ns, share,
					   SM_MAX_WINDOWS);
	/* the CPU taken from the apps per window, while some app was allowed to run */
	if (taken && csm_window_taken(t_ns, m->cum_ns, m->allowed, m->n_ticks, CSM_APPS_MAX, m->window_ns, taken,
				      SM_MAX_WINDOWS) != windows) {
		free(taken);
		taken = NULL;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/utilization.csv", ctx->data_dir);
	int err = write_csv(path, m, share, taken, windows);
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
	if (taken && windows > 1)
		report_disturbance(ctx, m, share, taken, windows);
	free(t_ns);
	free(share);
	free(taken);
}
