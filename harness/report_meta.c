/*
 * The meta.json reporter. Each finished case appends its record, one line of
 * JSON, to DIR/cases.jsonl and fsyncs it (constant work per case; a crash
 * of the harness leaves every finished case on disk, and --resume reads
 * them). meta.json is written at the start (the run, the machine, the cases
 * kept by --resume) and assembled once at the end, interrupted or not, from
 * cases.jsonl in suite order.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsontext.h"
#include "meta.h"
#include "reporter.h"
#include "resume.h"

#define CASES_JSONL_MAX_LINE (16u << 20)

struct meta_json {
	json_t *doc;   /* suite, run, platform; "cases" only while meta.json is written */
	int fd;        /* cases.jsonl, O_APPEND, while open */
	bool open;
	off_t size;
};

static void out_path(const struct run_info *run, const char *name, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", run->out, name);
}

/* The document with cases, written atomically. */
static int meta_save(const struct run_info *run, struct meta_json *m, json_t *cases)
{
	char path[4096];
	out_path(run, "meta.json", path, sizeof(path));
	json_object_set(m->doc, "cases", cases);
	int rc = meta_write(path, m->doc);
	int saved = errno;
	json_object_del(m->doc, "cases");
	errno = saved;
	return rc;
}

static int meta_run_start(struct reporter *rep, const struct run_info *run)
{
	struct meta_json *m = rep->priv;
	json_t *run_obj = meta_run(run->argc, run->argv);
	if (run->resume && run_obj)
		json_object_set(run_obj, "resumed_from", run->resume->previous_run ? run->resume->previous_run : json_null());
	if (run->rounds > 1 && run_obj)   /* repetitions: each round's case order is shuffled from this seed */
		json_object_set_new(run_obj, "repetitions", json_pack("{s:i, s:I}", "rounds", (int)run->rounds,
								      "order_seed", (json_int_t)run->order_seed));
	m->doc = json_pack("{s:o, s:o, s:O}", "suite", meta_suite(run->suite), "run", run_obj, "platform", run->platform);
	json_t *kept = json_array();
	char *jsonl = NULL, path[4096];
	size_t len = 0;
	FILE *f = open_memstream(&jsonl, &len);
	if (!m->doc || !kept || !f) {
		if (f)
			fclose(f);
		free(jsonl);
		json_decref(kept);
		fprintf(stderr, "harness: out of memory\n");
		return -1;
	}
	const struct resume_state *rs = run->resume;
	for (size_t i = 0; rs && i < rs->n_cases; i++)
		if (rs->record[i]) {
			fputs(rs->record[i], f);   /* byte for byte */
			json_array_append_new(kept, json_loads(rs->record[i], 0, NULL));
		}
	fclose(f);
	out_path(run, "cases.jsonl", path, sizeof(path));
	int rc = jsonl ? write_file_atomic(path, jsonl, len) : -1;
	free(jsonl);
	if (rc == 0) {
		m->fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
		m->open = m->fd >= 0;
		m->size = (off_t)len;
	}
	if (!m->open) {
		fprintf(stderr, "harness: cannot write %s: %s\n", path, strerror(errno));
		json_decref(kept);
		return -1;
	}
	rc = meta_save(run, m, kept);
	json_decref(kept);
	if (rc != 0) {
		out_path(run, "meta.json", path, sizeof(path));
		fprintf(stderr, "harness: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int meta_case_done(struct reporter *rep, const struct run_info *run, struct case_record *rec)
{
	(void)run;
	struct meta_json *m = rep->priv;
	if (rec->kept)
		return 0;   /* its line is in cases.jsonl as it was */
	const struct case_spec *cs = rec->spec;
	json_t *mc;
	if (rec->result) {
		mc = meta_case(cs, rec->result, rec->stats);
		if (!mc)   /* never drop a case silently: keep what identifies it */
			mc = json_pack("{s:o, s:s}", "case", json_text(cs->name), "meta_error",
				       "its metadata could not be encoded");
	} else {
		mc = json_pack("{s:o, s:s}", "case", json_text(cs->name), "mechanism", cs->mech->name);
	}
	/* the status as written to summary.csv: an output that failed before this one says so */
	if (mc)
		json_object_set_new(mc, "status", json_text(rec->row->status));
	if (mc && rec->n_reps > 1) {
		json_t *reps = json_array();
		for (unsigned i = 0; i < rec->n_reps; i++) {
			const struct rep_stat *r = &rec->reps[i];
			json_array_append_new(reps, json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "samples",
				(json_int_t)r->samples, "min_ns", (json_int_t)r->min, "p50_ns", (json_int_t)r->p50,
				"p90_ns", (json_int_t)r->p90, "p99_ns", (json_int_t)r->p99, "max_ns", (json_int_t)r->max,
				"mean_ns", r->mean));
		}
		json_object_set_new(mc, "repetitions", reps);
	}
	char *line = mc ? json_dumps(mc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(mc);
	char *text = NULL;
	int len = line ? asprintf(&text, "%s\n", line) : -1;
	free(line);
	if (len < 0) {
		case_output_failed(rec, "cases.jsonl", ENOMEM);
		return -1;
	}
	int rc = 0;
	if (!m->open || append_record(m->fd, &m->size, text, (size_t)len) != 0) {
		case_output_failed(rec, "cases.jsonl", m->open ? errno : EBADF);
		rc = -1;
	}
	free(text);
	return rc;
}

/* cases.jsonl back, in suite order (a line of a case the suite lacks goes last). */
static json_t *read_cases(const struct run_info *run, int *err)
{
	char path[4096];
	out_path(run, "cases.jsonl", path, sizeof(path));
	FILE *f = fopen(path, "r");
	if (!f) {
		*err = errno;
		return NULL;
	}
	size_t n = run->suite->n_cases;
	json_t **slot = calloc(n ? n : 1, sizeof(*slot));
	json_t *names = json_object(), *extra = json_array(), *cases = json_array();
	for (size_t i = 0; names && i < n; i++)
		json_object_set_new(names, run->suite->cases[i].name, json_integer((json_int_t)i));
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while (slot && names && extra && (len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] != '\n' || (size_t)len > CASES_JSONL_MAX_LINE)
			continue;
		json_t *rec = json_loadb(line, (size_t)len, 0, NULL);
		const char *name = json_string_value(json_object_get(rec, "case"));
		json_t *idx = name ? json_object_get(names, name) : NULL;
		if (!rec)
			continue;
		if (idx) {
			size_t i = (size_t)json_integer_value(idx);
			json_decref(slot[i]);
			slot[i] = rec;
		} else {
			json_array_append_new(extra, rec);
		}
	}
	free(line);
	fclose(f);
	for (size_t i = 0; slot && i < n; i++)
		if (slot[i])
			json_array_append_new(cases, slot[i]);
	json_array_extend(cases, extra);
	json_decref(extra);
	json_decref(names);
	if (!slot) {
		json_decref(cases);
		cases = NULL;
	}
	free(slot);
	*err = ENOMEM;
	return cases;
}

static int meta_run_end(struct reporter *rep, const struct run_info *run, struct run_totals *t)
{
	struct meta_json *m = rep->priv;
	if (m->open) {
		close(m->fd);
		m->open = false;
	}
	char ts[64];
	local_timestamp(ts, sizeof(ts), true);
	json_t *run_obj = json_object_get(m->doc, "run");
	json_object_set_new(run_obj, "finished", json_string(ts));
	json_object_set_new(run_obj, "interrupted", json_boolean(t->interrupted));
	if (t->disk_full)
		json_object_set_new(run_obj, "stopped_disk_full", json_true());
	if (run->lock)
		json_object_set(run_obj, "measure_lock", run->lock);
	int err = 0;
	json_t *cases = read_cases(run, &err);
	if (!cases) {
		run_output_failed(t, "meta.json (cases.jsonl unreadable)", err);
		return -1;
	}
	int rc = meta_save(run, m, cases);
	err = errno;
	json_decref(cases);
	if (rc != 0) {
		run_output_failed(t, "meta.json", err);
		return -1;
	}
	return 0;
}

static void meta_release(struct reporter *rep)
{
	struct meta_json *m = rep->priv;
	if (m->open)
		close(m->fd);
	json_decref(m->doc);
}

const struct reporter_ops reporter_meta_json = {
	.name = "meta_json",
	.writes_files = true,
	.priv_size = sizeof(struct meta_json),
	.run_start = meta_run_start,
	.case_done = meta_case_done,
	.run_end = meta_run_end,
	.release = meta_release,
};
