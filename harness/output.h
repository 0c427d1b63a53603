/* Result files: summary.csv, hist/CASE.csv, raw/CASE.csv; all written atomically. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>

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
};

/* Open PATH.tmp for writing; commit with atomic_commit (fsync + rename). */
FILE *atomic_open(const char *path, char *tmp_path, size_t tmp_len);
int atomic_commit(FILE *f, const char *tmp_path, const char *path);

/* A CSV field, quoted when it holds a comma, quote, or line break (RFC 4180). */
void csv_field(FILE *f, const char *s);

int write_summary_csv(const char *path, const struct summary_row *rows, size_t n);
int write_hist_csv(const char *path, const struct hist *h);
int write_raw_csv(const char *path, const struct samples *s);

/* Local time now, as a folder-name stamp (20240131-235959) or as ISO 8601. */
void local_timestamp(char *buf, size_t len, bool iso);

/* mkdir -p; returns 0 or -1 with errno. */
int mkdir_p(const char *path);
