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

#include "compiler.h"
#include "output.h"
#include "results.h"
#include "repeat.h"
#include "runner.h"
#include "suite.h"
#include "tsc.h"

struct resume_state;

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
	const struct resume_state *resume;    /* --resume: the cases kept from the folder, else NULL */
	json_t *lock;                         /* the measuring lock and the runs seen beside this one (meta.json) */
	unsigned long order_seed;             /* repetitions: the seed of each round's shuffled case order */
	unsigned rounds;                      /* the largest repeat of the suite's cases */
};

/*
 * One finished case. The file reporters may still change its status (an
 * output that could not be written: case_output_failed), so the views that
 * follow them show what is on disk.
 */
struct case_record {
	size_t index;                         /* in the suite, from 0 */
	const struct case_spec *spec;
	enum case_status status;              /* final: a case whose statistics failed is CS_FAIL */
	const struct case_result *result;     /* NULL: never ran (interrupted, or kept by --resume) */
	const struct case_stats *stats;       /* NULL unless status is CS_OK and it ran now */
	struct summary_row *row;              /* its summary.csv row, paper comparison included */
	bool kept;                            /* --resume: ok in the folder already, its files kept as they are */
	const struct rep_stat *reps;          /* repeat > 1: each repetition's statistics, n_reps of them */
	unsigned n_reps;
	bool output_failed;                   /* some output of it could not be written */
	bool disk_full;                       /* ... because the disk is full (ENOSPC, EDQUOT): stop the run */
};

/*
 * An output of the case (what: "hist/X.csv", "summary.csv") could not be
 * written, err its errno: the status becomes "fail: output: cannot write
 * WHAT: ERROR" (appended to a failure it already had), the run exits 1.
 */
void case_output_failed(struct case_record *rec, const char *what, int err);

struct run_totals {
	unsigned n_ok, n_skip, n_bad;         /* by the statuses as written */
	bool interrupted;
	bool disk_full;                       /* stopped early: an output of a case hit a full disk */
	size_t rows_on_disk;                  /* rows summary.csv holds (the summary reporter's run_end) */
	char output_error[512];               /* outputs the run's end could not write ("" = none) */
};

/* At the run's end what (e.g. "meta.json") could not be written: the final line says so, exit 1. */
void run_output_failed(struct run_totals *t, const char *what, int err);

struct reporter;

/*
 * Every hook is optional. The int hooks return 0, or -1 after saying on
 * stderr what could not be written: at run_start that stops the run before
 * any case (exit 2), later it makes the run exit 1.
 */
struct reporter_ops {
	const char *name;
	/*
	 * A file reporter writes the results; the others (console, papers table)
	 * only show them. case_done reaches the file reporters first, so a view
	 * shows a status an output failure changed; run_end also reaches them
	 * first, so the last line printed knows what reached the disk.
	 */
	bool writes_files;
	size_t priv_size;   /* reporter.priv: calloc'ed before run_start, freed after release */
	int (*run_start)(struct reporter *rep, const struct run_info *run);
	/* before the case runs (progress); the case record comes to case_done */
	void (*case_start)(struct reporter *rep, const struct run_info *run, size_t index,
			   const struct case_spec *cs);
	int (*case_done)(struct reporter *rep, const struct run_info *run, struct case_record *rec);
	int (*run_end)(struct reporter *rep, const struct run_info *run, struct run_totals *totals);
	void (*release)(struct reporter *rep);   /* free what priv points to */
};

struct reporter {
	const struct reporter_ops *ops;
	const char *path;   /* the file of a reporter the user points somewhere (--junit FILE), else NULL */
	void *priv;
};

/*
 * printf to stderr for the views. Progress must never end a run: once stderr
 * is a closed pipe (EPIPE; SIGPIPE is ignored), it becomes /dev/null, so
 * nothing prints any more (the runner's progress and the cases' lines too)
 * and the run goes on measuring.
 */
void console_printf(const char *fmt, ...) BENCH_PRINTF(1, 2);

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
 * run_start and case_start go first to last. case_done goes to the file
 * reporters first to last, then to the others first to last. run_end goes to
 * the file reporters first to last, then to the others last to first, so the
 * first reporter (the console) opens the run and has its last word.
 * run_start stops at the first failure; the others call every reporter and
 * return -1 when any failed.
 */
int reporters_run_start(struct reporter_set *set, const struct run_info *run);
void reporters_case_start(struct reporter_set *set, const struct run_info *run, size_t index,
			  const struct case_spec *cs);
int reporters_case_done(struct reporter_set *set, const struct run_info *run, struct case_record *rec);
int reporters_run_end(struct reporter_set *set, const struct run_info *run, struct run_totals *totals);
void reporters_free(struct reporter_set *set);
