#include "refs.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "csvread.h"

const char *const ref_stat_names[] = { "mean", "p50", "min", "max", "p99", NULL };

static const char *const columns[] = { "id", "source", "experiment", "metric", "value", "stddev",
				       "unit", "cpu", "cpu_ghz", "os", "notes" };
enum { COL_ID, COL_SOURCE, COL_VALUE = 4, COL_UNIT = 6, COL_CPU, COL_GHZ, NCOLS = 11 };

struct parse {
	struct refs *r;
	const char *file;
	char *err;
	size_t err_len;
};

static int parse_number(const char *s, double *out)
{
	char *end;
	errno = 0;
	*out = strtod(s, &end);
	/* "nan" and "inf" parse but are no paper's number */
	return errno || end == s || *end || !isfinite(*out) ? -1 : 0;
}

/* Copy a whole field or refuse: a truncated id would silently match the wrong row. */
static int copy_field(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);
	if (n >= len)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

static int on_row(void *arg, char *const *field, int ncol, long rec)
{
	struct parse *p = arg;
	if (ncol != NCOLS) {
		snprintf(p->err, p->err_len, "%s:%ld: %d fields, expected %d", p->file, rec, ncol, NCOLS);
		return -1;
	}
	if (rec == 1) {
		for (int i = 0; i < NCOLS; i++)
			if (strcmp(field[i], columns[i]) != 0) {
				snprintf(p->err, p->err_len, "%s:1: column %d is '%s', expected '%s'", p->file, i + 1,
					 field[i], columns[i]);
				return -1;
			}
		return 0;
	}
	struct ref_row row;
	memset(&row, 0, sizeof(row));
	if (copy_field(row.id, sizeof(row.id), field[COL_ID]) || !row.id[0] ||
	    copy_field(row.source, sizeof(row.source), field[COL_SOURCE]) ||
	    copy_field(row.unit, sizeof(row.unit), field[COL_UNIT]) ||
	    copy_field(row.cpu, sizeof(row.cpu), field[COL_CPU])) {
		snprintf(p->err, p->err_len, "%s:%ld: id empty, or id, source, unit or cpu too long", p->file, rec);
		return -1;
	}
	if (parse_number(field[COL_VALUE], &row.value) != 0 ||
	    (field[COL_GHZ][0] && parse_number(field[COL_GHZ], &row.cpu_ghz) != 0)) {
		snprintf(p->err, p->err_len, "%s:%ld: value or cpu_ghz is not a finite number", p->file, rec);
		return -1;
	}
	if (refs_find(p->r, row.id)) {
		snprintf(p->err, p->err_len, "%s:%ld: id '%s' defined twice", p->file, rec, row.id);
		return -1;
	}
	struct ref_row *n = realloc(p->r->rows, (p->r->n + 1) * sizeof(*n));
	if (!n) {
		snprintf(p->err, p->err_len, "out of memory");
		return -1;
	}
	p->r->rows = n;
	p->r->rows[p->r->n++] = row;
	return 0;
}

static int load_file(struct refs *r, const char *path, char *err, size_t err_len)
{
	struct parse p = { .r = r, .file = path, .err = err, .err_len = err_len };
	return csv_read_file(path, on_row, &p, err, err_len) ? -1 : 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int refs_load(const char *dir, struct refs *r, char *err, size_t err_len)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->dir, sizeof(r->dir), "%s", dir);
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(err, err_len, "reference data folder %s: %s", dir, strerror(errno));
		return -1;
	}
	char *names[256];
	size_t nn = 0;
	struct dirent *e;
	while ((e = readdir(d)) && nn < 256) {
		size_t l = strlen(e->d_name);
		if (l > 4 && strcmp(e->d_name + l - 4, ".csv") == 0)
			names[nn++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, nn, sizeof(names[0]), cmp_name);
	int rc = 0;
	for (size_t i = 0; i < nn; i++) {
		char path[2048];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (!rc && names[i])
			rc = load_file(r, path, err, err_len);
		free(names[i]);
	}
	if (rc)
		refs_free(r);
	return rc;
}

void refs_free(struct refs *r)
{
	free(r->rows);
	r->rows = NULL;
	r->n = 0;
}

const struct ref_row *refs_find(const struct refs *r, const char *id)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->rows[i].id, id) == 0)
			return &r->rows[i];
	return NULL;
}

const char *refs_default_dir(void)
{
	const char *env = getenv("GAPBENCH_REFERENCE_DIR");
	return env && env[0] ? env : GAPBENCH_SOURCE_ROOT "/reference-data";
}

bool refs_in_unit(const struct ref_row *ref, double measured_ns, double measured_cycles, double *here)
{
	*here = 0;
	if (strcmp(ref->unit, "cycles") == 0)
		*here = measured_cycles;
	else if (strcmp(ref->unit, "us") == 0)
		*here = measured_ns / 1e3;
	else if (strcmp(ref->unit, "s") == 0)
		*here = measured_ns / 1e9;
	else
		return false;   /* count, ratio: not a latency */
	return true;
}

bool refs_compare(const struct ref_row *ref, double measured_ns, double measured_cycles,
		  double *ratio, double *ratio_time)
{
	*ratio = *ratio_time = 0;
	double here;
	if (ref->value <= 0 || !refs_in_unit(ref, measured_ns, measured_cycles, &here))
		return false;
	*ratio = here / ref->value;
	if (strcmp(ref->unit, "cycles") != 0)
		*ratio_time = *ratio;   /* a time already */
	else if (ref->cpu_ghz > 0)
		*ratio_time = measured_ns / (ref->value / ref->cpu_ghz);
	return true;
}
