/* Result files: summary.csv, hist/CASE.csv, raw/CASE.csv; all written atomically. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "hist.h"
#include "samples.h"
#include "stats.h"

/* One row of summary.csv. Statistics are only present for status ok. */
struct summary_row {
	char case_name[160];
	char mechanism[64];
	char variant[64];
	char load[256];
	char status[600];
	char params[512];
	char pmu[512];             /* "NAME=value/sample;..." or "NAME=unavailable (why)" */
	/* beside the paper (papers.c fills them once per case): its number and unit, this case's
	   statistic in that unit (ref_here), their ratio, and the ratio in time */
	char ref_value[32], ref_unit[16], ref_ratio[32], ref_ratio_time[32], ref_here[32];
	bool have_stats;
	struct summary ns;
	uint64_t min_cycles, p50_cycles;
	char reference[128], ref_stat[8];
	uint64_t samples, warmup_discarded, missed;
	double elapsed_s;
	char stand_in[128];        /* the case key stand_in: what stands in for the paper's mechanism */
	/* repetitions: how many ran, the median of their p50s and its interval (repeat.h); empty when 1 */
	unsigned repeats;
	uint64_t rep_p50_median, rep_p50_lo, rep_p50_hi;
	/* where the case ran: "native", "in vm (kvm)" or "in vm (tcg: emulated, not a latency)" */
	char placement[128];
	bool ref_not_compared;     /* a latency the paper gives, not set beside it: the placement is emulated */
};

/* Open PATH.tmp for writing; commit with atomic_commit (fsync + rename). */
FILE *atomic_open(const char *path, char *tmp_path, size_t tmp_len);
int atomic_commit(FILE *f, const char *tmp_path, const char *path);

/* A CSV field, quoted when it holds a comma, quote, or line break (RFC 4180). */
void csv_field(FILE *f, const char *s);
/*
 * True when a spreadsheet would read the text cell s as a formula: it starts
 * with '=', '+', '-', '@', a tab or a carriage return (OWASP's CSV-injection
 * list) and is not a plain number ("-1", "+2.5e3" stay numbers).
 */
bool csv_formula_like(const char *s);
/*
 * A text cell of summary.csv: csv_field, except that a formula-like value is
 * neutralised as OWASP says: a single quote before it, the cell quoted.
 */
void csv_text(FILE *f, const char *s);

/* summary.csv's header line, and one row as one CSV record, each ending in '\n'. */
void write_summary_header(FILE *f);
void write_summary_row(FILE *f, const struct summary_row *r);
/* The index of a summary.csv column by its name, or -1. */
int summary_column(const char *name);
/* The row as a malloc'ed record (what write_summary_row writes); NULL when memory fails. */
char *summary_row_text(const struct summary_row *r, size_t *len);
/* Whole file, atomically: the header and rows. */
int write_summary_csv(const char *path, const struct summary_row *rows, size_t n);

/*
 * Append len bytes to the file fd (opened O_APPEND) whose good size is
 * *size, then fsync. On any failure the file is cut back to *size (no torn
 * record is left behind) and -1 returned with errno; on success *size grows.
 */
int append_record(int fd, off_t *size, const char *buf, size_t len);
/* Write all of buf to PATH atomically (PATH.tmp, fsync, rename); 0 or -1 with errno. */
int write_file_atomic(const char *path, const char *buf, size_t len);
int write_hist_csv(const char *path, const struct hist *h);
int write_raw_csv(const char *path, const struct samples *s);

/* Local time now, as a folder-name stamp (20240131-235959) or as ISO 8601. */
void local_timestamp(char *buf, size_t len, bool iso);

/* mkdir -p; returns 0 or -1 with errno. */
int mkdir_p(const char *path);
