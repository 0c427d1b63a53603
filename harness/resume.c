#include "resume.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compiler.h"
#include "infile.h"
#include "outdir.h"

#define RESUME_MAX_JSON_BYTES (256u << 20)
#define SUMMARY_MAX_CELLS 64

size_t csv_record_len(const char *text, size_t len)
{
	bool quoted = false;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '"')
			quoted = !quoted;   /* "" inside a quoted cell flips twice */
		else if (text[i] == '\n' && !quoted)
			return i + 1;
	}
	return 0;
}

int csv_split_record(const char *rec, size_t rec_len, char (*cells)[600], int max)
{
	int n = 0;
	size_t i = 0;
	while (n < max) {
		size_t used = 0;
		char *cell = cells[n];
		if (i < rec_len && rec[i] == '"') {
			for (i++; i < rec_len; i++) {
				if (rec[i] == '"') {
					if (i + 1 < rec_len && rec[i + 1] == '"')
						i++;
					else {
						i++;
						break;
					}
				}
				if (used + 1 < 600)
					cell[used++] = rec[i];
			}
		}
		for (; i < rec_len && rec[i] != ',' && rec[i] != '\n' && rec[i] != '\r'; i++)
			if (used + 1 < 600)
				cell[used++] = rec[i];
		cell[used] = '\0';
		n++;
		if (i >= rec_len || rec[i] != ',')
			break;
		i++;
	}
	return n;
}

static char *header_text(void)
{
	char *mem = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&mem, &len);
	if (!f)
		return NULL;
	write_summary_header(f);
	fclose(f);
	return mem;
}

/* name -> suite index, through a JSON object (a hash table); -1 when the suite lacks it. */
static long case_index(json_t *names, const char *name)
{
	json_t *v = json_object_get(names, name);
	return v ? (long)json_integer_value(v) : -1;
}

static int fail(char *err, size_t len, const char *fmt, ...) BENCH_PRINTF(3, 4);
static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* out/name into *text: 0, 1 when there is no such file, -1 with err. */
static int read_folder_file(const char *out, const char *name, size_t max_bytes, char *path, size_t path_len,
			    char **text, size_t *len, char *err, size_t err_len)
{
	char why[1024];
	*text = NULL;
	*len = 0;
	snprintf(path, path_len, "%s/%s", out, name);
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return 1;
	if (infile_read(path, max_bytes, text, len, why, sizeof(why)) != 0)
		return fail(err, err_len, "harness run --resume: %s", why);
	return 0;
}

static int read_summary(const char *out, const struct suite *s, json_t *names, struct resume_state *rs, char *err,
			size_t err_len)
{
	char path[4096], *text;
	size_t len;
	int got = read_folder_file(out, "summary.csv", INFILE_MAX_CSV_BYTES, path, sizeof(path), &text, &len, err,
				   err_len);
	if (got != 0)
		return got > 0 ? 0 : -1;   /* none: killed before its first row, nothing kept */
	char *header = header_text();
	size_t hlen = header ? strlen(header) : 0;
	int rc = 0;
	if (!header || len < hlen || memcmp(text, header, hlen) != 0) {
		rc = fail(err, err_len, "harness run --resume: %s has other columns than this harness writes", path);
		goto out;
	}
	char (*cells)[600] = malloc(SUMMARY_MAX_CELLS * sizeof(*cells));
	if (!cells) {
		rc = fail(err, err_len, "harness: out of memory");
		goto out;
	}
	for (size_t at = hlen, n; at < len && (n = csv_record_len(text + at, len - at)) > 0; at += n) {
		int nc = csv_split_record(text + at, n, cells, SUMMARY_MAX_CELLS);
		if (nc < 5)
			continue;
		struct summary_row tmp;
		snprintf(tmp.case_name, sizeof(tmp.case_name), "%s", cells[0]);
		if (tmp.case_name[0] == '\'' && csv_formula_like(tmp.case_name + 1))
			memmove(tmp.case_name, tmp.case_name + 1, strlen(tmp.case_name));
		long i = case_index(names, tmp.case_name);
		if (i < 0) {
			rc = fail(err, err_len, "harness run --resume: %s has case '%s', which %s (after --filter) does not: "
				  "resume with the same suite and --filter", path, tmp.case_name, s->path);
			break;
		}
		free(rs->row[i]);
		rs->row[i] = strcmp(cells[4], "ok") == 0 ? strndup(text + at, n) : NULL;
	}
	free(cells);
out:
	free(header);
	free(text);
	return rc;
}

/* One record (a JSON object with "case" and "status"), as its cases.jsonl line. */
static void take_record(json_t *names, struct resume_state *rs, json_t *rec, const char *line, size_t line_len)
{
	const char *name = json_string_value(json_object_get(rec, "case"));
	const char *status = json_string_value(json_object_get(rec, "status"));
	long i = name ? case_index(names, name) : -1;
	if (i < 0)
		return;
	free(rs->record[i]);
	rs->record[i] = NULL;
	if (!status || strcmp(status, "ok") != 0)
		return;
	if (line) {
		rs->record[i] = strndup(line, line_len);
	} else {
		char *dump = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
		if (dump && asprintf(&rs->record[i], "%s\n", dump) < 0)
			rs->record[i] = NULL;
		free(dump);
	}
}

static int read_records(const char *out, json_t *meta, json_t *names, struct resume_state *rs, char *err,
			size_t err_len)
{
	char path[4096], *text;
	size_t len;
	int got = read_folder_file(out, "cases.jsonl", RESUME_MAX_JSON_BYTES, path, sizeof(path), &text, &len, err,
				   err_len);
	if (got < 0)
		return -1;
	if (got > 0) {
		/* a folder of an older harness: the records are in meta.json */
		size_t i;
		json_t *rec;
		json_array_foreach(json_object_get(meta, "cases"), i, rec)
			take_record(names, rs, rec, NULL, 0);
		return 0;
	}
	for (size_t at = 0; at < len;) {
		char *nl = memchr(text + at, '\n', len - at);
		if (!nl)
			break;   /* a torn last line: that case runs again */
		size_t n = (size_t)(nl - (text + at)) + 1;
		json_t *rec = json_loadb(text + at, n, 0, NULL);
		if (rec)
			take_record(names, rs, rec, text + at, n);
		json_decref(rec);
		at += n;
	}
	free(text);
	return 0;
}

int resume_load(const char *out, const struct suite *s, struct resume_state *rs, char *err, size_t err_len)
{
	memset(rs, 0, sizeof(*rs));
	rs->n_cases = s->n_cases;
	rs->row = calloc(s->n_cases ? s->n_cases : 1, sizeof(char *));
	rs->record = calloc(s->n_cases ? s->n_cases : 1, sizeof(char *));
	json_t *names = json_object();
	if (!rs->row || !rs->record || !names) {
		json_decref(names);
		return fail(err, err_len, "harness: out of memory");
	}
	for (size_t i = 0; i < s->n_cases; i++)
		json_object_set_new(names, s->cases[i].name, json_integer((json_int_t)i));

	char path[4096], *text;
	size_t len;
	int got = read_folder_file(out, "meta.json", RESUME_MAX_JSON_BYTES, path, sizeof(path), &text, &len, err,
				   err_len);
	if (got != 0) {
		json_decref(names);
		if (got > 0)
			fail(err, err_len, "harness run --resume: %s has no meta.json: no run to resume (--force starts over)",
			     out);
		return -1;
	}
	json_error_t jerr;
	json_t *meta = json_loadb(text, len, 0, &jerr);
	free(text);
	const char *sha = json_string_value(json_object_get(json_object_get(meta, "suite"), "sha256"));
	int rc = 0;
	if (!meta)
		rc = fail(err, err_len, "harness run --resume: %s: line %d: %s", path, jerr.line, jerr.text);
	else if (!sha)
		rc = fail(err, err_len, "harness run --resume: %s names no suite sha256", path);
	else if (strcmp(sha, s->sha256_hex) != 0)
		rc = fail(err, err_len, "harness run --resume: %s ran a suite with sha256 %.12s..., %s has %.12s...: "
			  "resume with the same suite (--force starts over)", out, sha, s->path, s->sha256_hex);
	if (rc == 0)
		rc = read_summary(out, s, names, rs, err, err_len);
	if (rc == 0)
		rc = read_records(out, meta, names, rs, err, err_len);
	if (rc == 0) {
		rs->previous_run = json_incref(json_object_get(meta, "run"));
		for (size_t i = 0; i < s->n_cases; i++) {
			struct stat st;
			snprintf(path, sizeof(path), "%s/hist/%s.csv", out, s->cases[i].name);
			bool keep = rs->row[i] && rs->record[i] && stat(path, &st) == 0 && S_ISREG(st.st_mode);
			if (!keep) {
				free(rs->row[i]);
				free(rs->record[i]);
				rs->row[i] = rs->record[i] = NULL;
			} else {
				rs->n_kept++;
			}
		}
	}
	json_decref(meta);
	json_decref(names);
	return rc;
}

int resume_clean(const char *out, const struct suite *s, const struct resume_state *rs, char *err, size_t err_len)
{
	static const char *const tmp_files[] = { "summary.csv.tmp", "meta.json.tmp", "cases.jsonl.tmp", NULL };
	char path[4096];
	for (size_t i = 0; tmp_files[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", out, tmp_files[i]);
		remove_tree(path);
	}
	for (size_t i = 0; i < s->n_cases; i++) {
		if (rs->row[i])
			continue;
		static const char *const where[][2] = { { "hist", ".csv" }, { "raw", ".csv" }, { "data", "" } };
		for (size_t k = 0; k < sizeof(where) / sizeof(where[0]); k++) {
			snprintf(path, sizeof(path), "%s/%s/%s%s", out, where[k][0], s->cases[i].name, where[k][1]);
			if (remove_tree(path) != 0)
				return fail(err, err_len, "harness run --resume: cannot remove %s: %s", path, strerror(errno));
		}
	}
	return 0;
}

static void text_cell(char *dst, size_t len, const char *cell)
{
	if (cell[0] == '\'' && csv_formula_like(cell + 1))
		cell++;   /* csv_text neutralised it */
	snprintf(dst, len, "%s", cell);
}

int resume_row(const struct resume_state *rs, size_t index, struct summary_row *row)
{
	memset(row, 0, sizeof(*row));
	const char *rec = index < rs->n_cases ? rs->row[index] : NULL;
	if (!rec)
		return -1;
	char (*c)[600] = calloc(SUMMARY_MAX_CELLS, sizeof(*c));
	if (!c)
		return -1;
	int n = csv_split_record(rec, strlen(rec), c, SUMMARY_MAX_CELLS);
	/* the header check made sure these are the columns this harness writes */
	struct { const char *column; char *dst; size_t len; } text[] = {
		{ "case", row->case_name, sizeof(row->case_name) }, { "mechanism", row->mechanism, sizeof(row->mechanism) },
		{ "variant", row->variant, sizeof(row->variant) }, { "load", row->load, sizeof(row->load) },
		{ "status", row->status, sizeof(row->status) }, { "ref_value", row->ref_value, sizeof(row->ref_value) },
		{ "ref_unit", row->ref_unit, sizeof(row->ref_unit) }, { "ref_ratio", row->ref_ratio, sizeof(row->ref_ratio) },
		{ "params", row->params, sizeof(row->params) }, { "pmu", row->pmu, sizeof(row->pmu) },
		{ "reference", row->reference, sizeof(row->reference) }, { "ref_stat", row->ref_stat, sizeof(row->ref_stat) },
		{ "ref_ratio_time", row->ref_ratio_time, sizeof(row->ref_ratio_time) },
		{ "ref_here", row->ref_here, sizeof(row->ref_here) }, { "stand_in", row->stand_in, sizeof(row->stand_in) },
	};
	int rc = 0;
	for (size_t k = 0; k < sizeof(text) / sizeof(text[0]); k++) {
		int col = summary_column(text[k].column);
		if (col < 0 || col >= n)
			rc = -1;
		else
			text_cell(text[k].dst, text[k].len, c[col]);
	}
	int col = summary_column("samples");
	if (col >= 0 && col < n)
		row->samples = strtoull(c[col], NULL, 10);
	col = summary_column("elapsed_s");
	if (col >= 0 && col < n)
		row->elapsed_s = strtod(c[col], NULL);
	col = summary_column("repeats");
	if (col >= 0 && col < n)
		row->repeats = (unsigned)strtoul(c[col], NULL, 10);
	free(c);
	return rc;
}

void resume_free(struct resume_state *rs)
{
	for (size_t i = 0; i < rs->n_cases; i++) {
		if (rs->row)
			free(rs->row[i]);
		if (rs->record)
			free(rs->record[i]);
	}
	free(rs->row);
	free(rs->record);
	json_decref(rs->previous_run);
	memset(rs, 0, sizeof(*rs));
}
