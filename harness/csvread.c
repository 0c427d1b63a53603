#include "csvread.h"

#include "infile.h"

#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct reader {
	csv_row_fn fn;
	void *arg;
	char *fields[CSVREAD_MAX_FIELDS];
	int n;
	int overflow;
	long record;
	int stop;
};

static void on_field(void *s, size_t len, void *p)
{
	struct reader *r = p;
	if (r->n >= CSVREAD_MAX_FIELDS) {
		r->overflow = 1;
		return;
	}
	char *f = malloc(len + 1);
	if (!f) {
		r->overflow = 1;
		return;
	}
	if (len)
		memcpy(f, s, len);
	f[len] = '\0';
	r->fields[r->n++] = f;
}

static void on_record(int term, void *p)
{
	(void)term;
	struct reader *r = p;
	r->record++;
	if (!r->stop)
		r->stop = r->overflow ? -2 : r->fn(r->arg, r->fields, r->n, r->record);
	for (int i = 0; i < r->n; i++)
		free(r->fields[i]);
	r->n = 0;
	r->overflow = 0;
}

int csv_read_file(const char *path, csv_row_fn fn, void *arg, char *err, size_t err_len)
{
	FILE *f = infile_open(path, INFILE_MAX_CSV_BYTES, err, err_len);
	if (!f)
		return -1;
	struct csv_parser cp;
	if (csv_init(&cp, CSV_STRICT | CSV_APPEND_NULL) != 0) {
		fclose(f);
		snprintf(err, err_len, "%s: libcsv cannot initialize", path);
		return -1;
	}
	struct reader r = { .fn = fn, .arg = arg };
	char buf[8192];
	size_t n;
	int rc = 0;
	size_t total = 0;
	while (!r.stop && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
		total += n;
		if (total > INFILE_MAX_CSV_BYTES) {   /* it grew while we read it */
			snprintf(err, err_len, "%s: more than the %u bytes a CSV input may have", path, INFILE_MAX_CSV_BYTES);
			rc = -1;
			break;
		}
		if (csv_parse(&cp, buf, n, on_field, on_record, &r) != n && !r.stop) {
			snprintf(err, err_len, "%s: %s near record %ld", path, csv_strerror(csv_error(&cp)), r.record + 1);
			rc = -1;
			break;
		}
	}
	if (!rc && !r.stop && csv_fini(&cp, on_field, on_record, &r) != 0) {
		snprintf(err, err_len, "%s: %s at the end", path, csv_strerror(csv_error(&cp)));
		rc = -1;
	}
	for (int i = 0; i < r.n; i++)
		free(r.fields[i]);
	csv_free(&cp);
	fclose(f);
	if (!rc && r.stop == -2) {
		snprintf(err, err_len, "%s: record %ld has more than %d fields", path, r.record, CSVREAD_MAX_FIELDS);
		return -1;
	}
	return rc ? rc : r.stop;
}
