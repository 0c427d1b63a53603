/* The console reporter: the run's header, one progress line and one outcome line per case, the totals. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "gapbench_version.h"
#include "reporter.h"
#include "resume.h"

/* Beyond this the frequency source and the kernel's clock disagree: say so. */
#define TSC_DEVIATION_WARN_PPM 1000.0

static bool console_gone;   /* stderr was a closed pipe: it is /dev/null now */

void console_printf(const char *fmt, ...)
{
	if (console_gone)
		return;
	va_list ap;
	va_start(ap, fmt);
	errno = 0;
	int rc = vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (rc >= 0 || errno != EPIPE)
		return;
	console_gone = true;
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDERR_FILENO);   /* dup2 clears O_CLOEXEC on fd 2: the cases inherit /dev/null */
		close(null);
	}
	clearerr(stderr);
}

static int console_run_start(struct reporter *rep, const struct run_info *run)
{
	(void)rep;
	const struct tsc_info *tsc = run->tsc;
	const struct tsc_overhead *ovh = run->overhead;
	console_printf("gapbench %s (%s): suite %s, %zu cases, TSC %llu kHz (%s, %+.0f ppm vs CLOCK_MONOTONIC_RAW), "
		       "probe overhead %llu cycles%s\n", GAPBENCH_VERSION, GAPBENCH_GIT_REVISION, run->suite->name,
		       run->suite->n_cases, (unsigned long long)tsc->tsc_khz, tsc_source_name(tsc->source),
		       tsc->deviation_ppm, (unsigned long long)ovh->min_cycles, ovh->stable ? "" : " (UNSTABLE)");
	if (tsc->deviation_ppm > TSC_DEVIATION_WARN_PPM || tsc->deviation_ppm < -TSC_DEVIATION_WARN_PPM)
		console_printf("harness: warning: the TSC frequency from %s is %+.0f ppm off CLOCK_MONOTONIC_RAW\n",
			       tsc_source_name(tsc->source), tsc->deviation_ppm);
	if (!ovh->stable)
		console_printf("harness: warning: the probe overhead is unstable (per-batch minima spread %llu cycles)\n",
			       (unsigned long long)ovh->batch_min_spread);
	if (strcmp(GAPBENCH_SANITIZE, "none") != 0)
		console_printf("harness: warning: sanitized build (%s): timings are not representative\n",
			       GAPBENCH_SANITIZE);
	if (run->resume)
		console_printf("harness: resuming %s: %zu of %zu cases were ok and are kept, the others run\n", run->out,
			       run->resume->n_kept, run->suite->n_cases);
	return 0;
}

static void console_case_start(struct reporter *rep, const struct run_info *run, size_t index,
			       const struct case_spec *cs)
{
	(void)rep;
	console_printf("[%zu/%zu] %s\n", index + 1, run->suite->n_cases, cs->name);
}

static int console_case_done(struct reporter *rep, const struct run_info *run, struct case_record *rec)
{
	(void)rep;
	const struct summary_row *row = rec->row;
	if (rec->kept) {
		console_printf("[%zu/%zu] %s\n      ok  (kept: measured by the run resumed)\n", rec->index + 1,
			       run->suite->n_cases, rec->spec->name);
		return 0;
	}
	if (!rec->result)   /* never started: the totals count it */
		return 0;
	if (rec->status == CS_OK)
		console_printf("      ok  p50 %llu ns  p99 %llu ns  max %llu ns  (%.1f s)\n",
			       (unsigned long long)rec->stats->ns.p50, (unsigned long long)rec->stats->ns.p99,
			       (unsigned long long)rec->stats->ns.max, row->elapsed_s);
	else
		console_printf("      %s  (%.1f s)\n", row->status, row->elapsed_s);
	return 0;
}

/* The last line: the counts as written, and what of the results did not reach the disk. */
static int console_run_end(struct reporter *rep, const struct run_info *run, struct run_totals *t)
{
	(void)rep;
	size_t n = run->suite->n_cases;
	char missing[96] = "";
	if (t->rows_on_disk != n)
		snprintf(missing, sizeof(missing), "; summary.csv holds %zu of the %zu rows", t->rows_on_disk, n);
	console_printf("%zu cases: %u ok, %u skipped, %u failed%s%s; results in %s%s%s%s\n", n, t->n_ok, t->n_skip,
		       t->n_bad, t->interrupted ? " (interrupted)" : "", t->disk_full ? " (stopped: the disk is full)" : "",
		       run->out, missing, t->output_error[0] ? "; " : "", t->output_error);
	return 0;
}

const struct reporter_ops reporter_console = {
	.name = "console",
	.run_start = console_run_start,
	.case_start = console_case_start,
	.case_done = console_case_done,
	.run_end = console_run_end,
};
