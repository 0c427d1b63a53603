/* The console reporter: the run's header, one progress line and one outcome line per case, the totals. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "gapbench_version.h"
#include "reporter.h"

/* Beyond this the frequency source and the kernel's clock disagree: say so. */
#define TSC_DEVIATION_WARN_PPM 1000.0

static int console_run_start(struct reporter *rep, const struct run_info *run)
{
	(void)rep;
	const struct tsc_info *tsc = run->tsc;
	const struct tsc_overhead *ovh = run->overhead;
	fprintf(stderr, "gapbench %s (%s): suite %s, %zu cases, TSC %llu kHz (%s, %+.0f ppm vs CLOCK_MONOTONIC_RAW), "
		"probe overhead %llu cycles%s\n", GAPBENCH_VERSION, GAPBENCH_GIT_REVISION, run->suite->name,
		run->suite->n_cases, (unsigned long long)tsc->tsc_khz, tsc_source_name(tsc->source), tsc->deviation_ppm,
		(unsigned long long)ovh->min_cycles, ovh->stable ? "" : " (UNSTABLE)");
	if (tsc->deviation_ppm > TSC_DEVIATION_WARN_PPM || tsc->deviation_ppm < -TSC_DEVIATION_WARN_PPM)
		fprintf(stderr, "harness: warning: the TSC frequency from %s is %+.0f ppm off CLOCK_MONOTONIC_RAW\n",
			tsc_source_name(tsc->source), tsc->deviation_ppm);
	if (!ovh->stable)
		fprintf(stderr, "harness: warning: the probe overhead is unstable (per-batch minima spread %llu cycles)\n",
			(unsigned long long)ovh->batch_min_spread);
	if (strcmp(GAPBENCH_SANITIZE, "none") != 0)
		fprintf(stderr, "harness: warning: sanitized build (%s): timings are not representative\n",
			GAPBENCH_SANITIZE);
	return 0;
}

static void console_case_start(struct reporter *rep, const struct run_info *run, size_t index,
			       const struct case_spec *cs)
{
	(void)rep;
	fprintf(stderr, "[%zu/%zu] %s\n", index + 1, run->suite->n_cases, cs->name);
}

static int console_case_done(struct reporter *rep, const struct run_info *run, const struct case_record *rec)
{
	(void)rep;
	(void)run;
	if (!rec->result)   /* never started: the totals count it */
		return 0;
	const struct summary_row *row = rec->row;
	if (rec->status == CS_OK)
		fprintf(stderr, "      ok  p50 %llu ns  p99 %llu ns  max %llu ns  (%.1f s)\n",
			(unsigned long long)rec->stats->ns.p50, (unsigned long long)rec->stats->ns.p99,
			(unsigned long long)rec->stats->ns.max, row->elapsed_s);
	else
		fprintf(stderr, "      %s  (%.1f s)\n", row->status, row->elapsed_s);
	return 0;
}

static int console_run_end(struct reporter *rep, const struct run_info *run, const struct run_totals *t)
{
	(void)rep;
	fprintf(stderr, "%zu cases: %u ok, %u skipped, %u failed%s; results in %s\n", run->suite->n_cases, t->n_ok,
		t->n_skip, t->n_bad, t->interrupted ? " (interrupted)" : "", run->out);
	return 0;
}

const struct reporter_ops reporter_console = {
	.name = "console",
	.run_start = console_run_start,
	.case_start = console_case_start,
	.case_done = console_case_done,
	.run_end = console_run_end,
};
