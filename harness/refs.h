/*
 * Reference data: the seed papers' numbers (the CSV files of reference-data/), looked up
 * by id so a case can stand beside the paper's value for it.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct ref_row {
	char id[96];
	char source[160];
	char unit[16];       /* cycles, us, s, count, ratio */
	double value;
	double cpu_ghz;      /* 0 when the paper does not state it */
	char cpu[96];
};

struct refs {
	struct ref_row *rows;
	size_t n;
	char dir[1024];
};

/* Load every *.csv of dir. Returns 0, or -1 with "FILE:ROW: problem" in err. */
int refs_load(const char *dir, struct refs *r, char *err, size_t err_len);
void refs_free(struct refs *r);
const struct ref_row *refs_find(const struct refs *r, const char *id);

/* The folder to read: $GAPBENCH_REFERENCE_DIR, else the source tree's reference-data/. */
const char *refs_default_dir(void);

/* Which statistic of a case stands beside the paper's number. */
enum ref_stat { REF_MEAN, REF_P50, REF_MIN, REF_MAX, REF_P99 };
extern const char *const ref_stat_names[];

/*
 * The measured latency in the paper's unit (cycles, us or s): what "here" is
 * beside the paper's number. Returns false when the unit is not a latency.
 */
bool refs_in_unit(const struct ref_row *ref, double measured_ns, double measured_cycles, double *here);

/*
 * The comparison a summary row shows: ratio = measured / paper in the paper's
 * unit ("same cycles?" for cycle rows), and for cycle rows whose paper clock
 * is known also in time (measured ns / (paper cycles / paper GHz): "same
 * time?"). Returns false when the unit cannot be compared with a latency.
 */
bool refs_compare(const struct ref_row *ref, double measured_ns, double measured_cycles,
		  double *ratio, double *ratio_time);
