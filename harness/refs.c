#include "refs.h"

#include <csv.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

const char *const ref_stat_names[] = { "mean", "p50", "min", "max", "p99", NULL };

static const char *const columns[] = { "id", "source", "experiment", "metric", "value", "stddev",
				       "unit", "cpu", "cpu_ghz", "os", "notes" };
enum { COL_ID, COL_SOURCE, COL_VALUE = 4, COL_UNIT = 6, COL_CPU, COL_GHZ, NCOLS = 11 };

/* libcsv calls these per field and per record. */
struct parse {
	struct refs *r;
	const char *file;
	char field[NCOLS][256];
	int col;
	long record;
	char *err;
	size_t err_len;
	int failed;
};

static void on_field(void *s, size_t len, void *arg)
{
	struct parse *p = arg;
	if (p->col < NCOLS)
		snprintf(p->field[p->col], sizeof(p->field[p->col]), "%.*s", (int)len, s ? (const char *)s : "");
	p->col++;
}

static int parse_number(const char *s, double *out)
{
	char *end;
	errno = 0;
	*out = strtod(s, &end);
	return errno || end == s || *end ? -1 : 0;
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

static void on_record(int term, void *arg)
{
	(void)term;
	struct parse *p = arg;
	long rec = p->record++;
	int ncol = p->col;
	p->col = 0;
	if (p->failed)
		return;
	if (ncol != NCOLS) {
		snprintf(p->err, p->err_len, "%s:%ld: %d fields, expected %d", p->file, rec + 1, ncol, NCOLS);
		p->failed = 1;
		return;
	}
	if (rec == 0) {
		for (int i = 0; i < NCOLS; i++)
			if (strcmp(p->field[i], columns[i]) != 0) {
				snprintf(p->err, p->err_len, "%s:1: column %d is '%s', expected '%s'", p->file, i + 1,
					 p->field[i], columns[i]);
				p->failed = 1;
				return;
			}
		return;
	}
	struct ref_row row;
	memset(&row, 0, sizeof(row));
	if (copy_field(row.id, sizeof(row.id), p->field[COL_ID]) || !row.id[0] ||
	    copy_field(row.source, sizeof(row.source), p->field[COL_SOURCE]) ||
	    copy_field(row.unit, sizeof(row.unit), p->field[COL_UNIT]) ||
	    copy_field(row.cpu, sizeof(row.cpu), p->field[COL_CPU])) {
		snprintf(p->err, p->err_len, "%s:%ld: id empty, or id, source, unit or cpu too long", p->file, rec + 1);
		p->failed = 1;
		return;
	}
	if (parse_number(p->field[COL_VALUE], &row.value) != 0 ||
	    (p->field[COL_GHZ][0] && parse_number(p->field[COL_GHZ], &row.cpu_ghz) != 0)) {
		snprintf(p->err, p->err_len, "%s:%ld: value or cpu_ghz is not a number", p->file, rec + 1);
		p->failed = 1;
		return;
	}
	if (refs_find(p->r, row.id)) {
		snprintf(p->err, p->err_len, "%s:%ld: id '%s' defined twice", p->file, rec + 1, row.id);
		p->failed = 1;
		return;
	}
	struct ref_row *n = realloc(p->r->rows, (p->r->n + 1) * sizeof(*n));
	if (!n) {
		snprintf(p->err, p->err_len, "out of memory");
		p->failed = 1;
		return;
	}
	p->r->rows = n;
	p->r->rows[p->r->n++] = row;
}

static int load_file(struct refs *r, const char *path, char *err, size_t err_len)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct csv_parser cp;
	struct parse p = { .r = r, .file = path, .err = err, .err_len = err_len };
	if (csv_init(&cp, CSV_STRICT | CSV_APPEND_NULL) != 0) {
		fclose(f);
		snprintf(err, err_len, "libcsv: cannot initialize");
		return -1;
	}
	char buf[4096];
	size_t n;
	while (!p.failed && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (csv_parse(&cp, buf, n, on_field, on_record, &p) != n && !p.failed) {
			snprintf(err, err_len, "%s: %s", path, csv_strerror(csv_error(&cp)));
			p.failed = 1;
		}
	if (!p.failed)
		csv_fini(&cp, on_field, on_record, &p);
	csv_free(&cp);
	fclose(f);
	return p.failed ? -1 : 0;
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

bool refs_compare(const struct ref_row *ref, double measured_ns, double measured_cycles,
		  double *ratio, double *ratio_time)
{
	*ratio = *ratio_time = 0;
	if (ref->value <= 0)
		return false;
	if (strcmp(ref->unit, "cycles") == 0) {
		*ratio = measured_cycles / ref->value;
		if (ref->cpu_ghz > 0)
			*ratio_time = measured_ns / (ref->value / ref->cpu_ghz);
		return true;
	}
	if (strcmp(ref->unit, "us") == 0) {
		*ratio = *ratio_time = measured_ns / (ref->value * 1e3);
		return true;
	}
	if (strcmp(ref->unit, "s") == 0) {
		*ratio = *ratio_time = measured_ns / (ref->value * 1e9);
		return true;
	}
	return false;   /* count, ratio: not a latency */
}
