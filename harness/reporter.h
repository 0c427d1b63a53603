/*
 * Reporters: everything `harness run` writes or prints about its cases goes
 * through one of these (google-benchmark's BenchmarkReporter is the model).
 * cmd_run only runs the cases and hands each finished one, as a case_record,
 * to every reporter of its set; a new output format is one new reporter.
 */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "output.h"
#include "results.h"
#include "runner.h"
#include "suite.h"
#include "tsc.h"

/* What every reporter may read, fixed for the whole run. */
struct run_info {
	const struct suite *suite;
	const char *out;                      /* the results folder (created, with hist/ and raw/) */
	bool raw;                             /* --raw: raw/CASE.csv too */
	int argc;                             /* the command line, for meta.json */
	char **argv;
	const struct tsc_info *tsc;
	const struct tsc_overhead *overhead;  /* the probe pair, measured at the start */
	json_t *platform;                     /* platform_describe(): borrowed */
};

/* One finished case. */
struct case_record {
	size_t index;                         /* in the suite, from 0 */
	const struct case_spec *spec;
	enum case_status status;              /* final: a case whose statistics failed is CS_FAIL */
	const struct case_result *result;     /* NULL: never ran (the run was interrupted first) */
	const struct case_stats *stats;       /* NULL unless status is CS_OK */
	const struct summary_row *row;        /* its summary.csv row, paper comparison included */
};

struct run_totals {
	unsigned n_ok, n_skip, n_bad;
	bool interrupted;
};

struct reporter;

/*
 * Every hook is optional. The int hooks return 0, or -1 after saying on
 * stderr what could not be written: at run_start that stops the run before
 * any case (exit 2), later it makes the run exit 1.
 */
struct reporter_ops {
	const char *name;
	size_t priv_size;   /* reporter.priv: calloc'ed before run_start, freed after release */
	int (*run_start)(struct reporter *rep, const struct run_info *run);
	/* before the case runs (progress); the case record comes to case_done */
	void (*case_start)(struct reporter *rep, const struct run_info *run, size_t index,
			   const struct case_spec *cs);
	int (*case_done)(struct reporter *rep, const struct run_info *run, const struct case_record *rec);
	int (*run_end)(struct reporter *rep, const struct run_info *run, const struct run_totals *totals);
	void (*release)(struct reporter *rep);   /* free what priv points to */
};

struct reporter {
	const struct reporter_ops *ops;
	const char *path;   /* the file of a reporter the user points somewhere (--junit FILE), else NULL */
	void *priv;
};

/* The reporters of `harness run` (report_*.c). */
extern const struct reporter_ops reporter_console;      /* progress and totals on stderr */
extern const struct reporter_ops reporter_papers;       /* "Beside the papers" table on stderr */
extern const struct reporter_ops reporter_summary_csv;  /* DIR/summary.csv */
extern const struct reporter_ops reporter_hist_csv;     /* DIR/hist/CASE.csv, DIR/raw/CASE.csv with --raw */
extern const struct reporter_ops reporter_meta_json;    /* DIR/meta.json */
extern const struct reporter_ops reporter_junit;        /* --junit FILE: JUnit XML for CI */

#define REPORTERS_MAX 8

struct reporter_set {
	struct reporter r[REPORTERS_MAX];
	size_t n;
};

/* Append a reporter; -1 when the set is full or memory fails. */
int reporters_add(struct reporter_set *set, const struct reporter_ops *ops, const char *path);
/*
 * run_start, case_start and case_done go first to last; run_end goes last to
 * first, so the first reporter (the console) opens the run and has its last
 * word. run_start stops at the first failure; the others call every reporter
 * and return -1 when any failed.
 */
int reporters_run_start(struct reporter_set *set, const struct run_info *run);
void reporters_case_start(struct reporter_set *set, const struct run_info *run, size_t index,
			  const struct case_spec *cs);
int reporters_case_done(struct reporter_set *set, const struct run_info *run, const struct case_record *rec);
int reporters_run_end(struct reporter_set *set, const struct run_info *run, const struct run_totals *totals);
void reporters_free(struct reporter_set *set);
