/* The meta.json reporter: the run, the machine and every case's settings and facts, rewritten after every case. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "jsontext.h"
#include "meta.h"
#include "reporter.h"

struct meta_json {
	json_t *doc;
	json_t *cases;   /* doc's "cases" */
};

static int meta_save(const struct run_info *run, const struct meta_json *m)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/meta.json", run->out);
	if (meta_write(path, m->doc) != 0) {
		fprintf(stderr, "harness: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int meta_run_start(struct reporter *rep, const struct run_info *run)
{
	struct meta_json *m = rep->priv;
	m->cases = json_array();
	m->doc = json_pack("{s:o, s:o, s:O, s:O}", "suite", meta_suite(run->suite), "run",
			   meta_run(run->argc, run->argv), "platform", run->platform, "cases", m->cases);
	if (!m->cases || !m->doc) {
		fprintf(stderr, "harness: out of memory\n");
		return -1;
	}
	return meta_save(run, m);
}

static int meta_case_done(struct reporter *rep, const struct run_info *run, const struct case_record *rec)
{
	struct meta_json *m = rep->priv;
	const struct case_spec *cs = rec->spec;
	json_t *mc;
	if (rec->result) {
		mc = meta_case(cs, rec->result, rec->stats);
		if (!mc)   /* never drop a case silently: keep what identifies it */
			mc = json_pack("{s:o, s:s}", "case", json_text(cs->name), "meta_error",
				       "its metadata could not be encoded");
	} else {
		mc = json_pack("{s:o, s:s, s:s}", "case", json_text(cs->name), "mechanism", cs->mech->name,
			       "status", rec->row->status);
	}
	json_array_append_new(m->cases, mc);
	return meta_save(run, m);
}

static int meta_run_end(struct reporter *rep, const struct run_info *run, const struct run_totals *t)
{
	struct meta_json *m = rep->priv;
	char ts[64];
	local_timestamp(ts, sizeof(ts), true);
	json_object_set_new(json_object_get(m->doc, "run"), "finished", json_string(ts));
	json_object_set_new(json_object_get(m->doc, "run"), "interrupted", json_boolean(t->interrupted));
	return meta_save(run, m);
}

static void meta_release(struct reporter *rep)
{
	struct meta_json *m = rep->priv;
	json_decref(m->doc);
	json_decref(m->cases);
}

const struct reporter_ops reporter_meta_json = {
	.name = "meta_json",
	.priv_size = sizeof(struct meta_json),
	.run_start = meta_run_start,
	.case_done = meta_case_done,
	.run_end = meta_run_end,
	.release = meta_release,
};
