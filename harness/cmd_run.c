/* harness run SUITE.toml --out DIR: every case, each in its own process. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "gapbench_version.h"
#include "jsontext.h"
#include "meta.h"
#include "output.h"
#include "platform.h"
#include "results.h"
#include "runner.h"
#include "suite.h"

/* Beyond this the frequency source and the kernel's clock disagree: say so. */
#define TSC_DEVIATION_WARN_PPM 1000.0

static volatile int interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: harness run SUITE.toml [--out DIR] [--filter GLOB] [--raw]\n"
		"\n"
		"Runs every case of the suite, each in its own child process with its timeout,\n"
		"and writes DIR/summary.csv, DIR/hist/CASE.csv and DIR/meta.json (rewritten\n"
		"atomically after every case, so an interrupted run keeps what it measured).\n"
		"\n"
		"  -o, --out DIR      results folder (default: results/SUITE-YYYYmmdd-HHMMSS)\n"
		"  -f, --filter GLOB  run only cases whose name matches GLOB (fnmatch)\n"
		"  -r, --raw          also write DIR/raw/CASE.csv with every raw sample\n"
		"  -h, --help         this text\n"
		"\n"
		"Exit status: 0 every case ok or skipped, 1 some case failed, timed out or\n"
		"was killed, 2 bad input (suite, options, unwritable DIR).\n");
}

/* Counters run over all of measure(): the warm-up operations too. */
static void pmu_text(const struct child_shared *sh, char *buf, size_t len)
{
	uint64_t ops = sh->s.count + sh->s.warmup_discarded;
	size_t used = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < sh->pmu.count && used < len; i++) {
		const struct pmu_counter *c = &sh->pmu.c[i];
		int w;
		if (c->available)
			w = snprintf(buf + used, len - used, "%s%s=%.2f/op", i ? ";" : "", c->name,
				     ops ? (double)c->value / (double)ops : 0.0);
		else
			w = snprintf(buf + used, len - used, "%s%s=unavailable", i ? ";" : "", c->name);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

struct run_state_refs {
	const struct refs *refs;
	uint64_t tsc_khz;
};

/* The case's chosen statistic beside the paper's number; empty cells when it cannot compare. */
static void fill_reference(const struct run_state_refs *rs, const struct case_spec *cs, const struct case_stats *stats,
			   struct summary_row *row)
{
	if (!cs->set.reference[0])
		return;
	snprintf(row->reference, sizeof(row->reference), "%s", cs->set.reference);
	snprintf(row->ref_stat, sizeof(row->ref_stat), "%s", ref_stat_names[cs->set.ref_stat]);
	const struct ref_row *ref = refs_find(rs->refs, cs->set.reference);
	if (!ref)
		return;
	snprintf(row->ref_value, sizeof(row->ref_value), "%g", ref->value);
	snprintf(row->ref_unit, sizeof(row->ref_unit), "%s", ref->unit);
	if (!stats)
		return;
	double ns;
	switch (cs->set.ref_stat) {
	case REF_P50: ns = (double)stats->ns.p50; break;
	case REF_MIN: ns = (double)stats->ns.min; break;
	case REF_MAX: ns = (double)stats->ns.max; break;
	case REF_P99: ns = (double)stats->ns.p99; break;
	default: ns = stats->ns.mean; break;
	}
	double cycles = ns * (double)rs->tsc_khz / 1e6;
	double ratio, ratio_time;
	if (!refs_compare(ref, ns, cycles, &ratio, &ratio_time))
		return;
	snprintf(row->ref_ratio, sizeof(row->ref_ratio), "%.3f", ratio);
	if (ratio_time > 0)
		snprintf(row->ref_ratio_time, sizeof(row->ref_ratio_time), "%.3f", ratio_time);
}

struct run_state {
	const char *out;
	bool raw;
	struct suite suite;
	struct run_env env;
	struct summary_row *rows;
	size_t n_rows;
	json_t *meta;
	json_t *meta_cases;
	unsigned n_ok, n_skip, n_bad;
};

static int save(struct run_state *st)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/summary.csv", st->out);
	if (write_summary_csv(path, st->rows, st->n_rows) != 0) {
		fprintf(stderr, "harness: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/meta.json", st->out);
	if (meta_write(path, st->meta) != 0) {
		fprintf(stderr, "harness: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void run_one(struct run_state *st, size_t idx)
{
	const struct case_spec *cs = &st->suite.cases[idx];
	struct summary_row *row = &st->rows[st->n_rows++];
	memset(row, 0, sizeof(*row));
	snprintf(row->case_name, sizeof(row->case_name), "%s", cs->name);
	snprintf(row->mechanism, sizeof(row->mechanism), "%s", cs->mech->name);
	snprintf(row->variant, sizeof(row->variant), "%s", cs->mech->variants[cs->variant].name);
	snprintf(row->load, sizeof(row->load), "%s", cs->load_desc);
	snprintf(row->params, sizeof(row->params), "%s", cs->params);

	fprintf(stderr, "[%zu/%zu] %s\n", idx + 1, st->suite.n_cases, cs->name);
	struct case_result r;
	runner_run_case(cs, &st->env, &r);

	struct case_stats stats;
	bool have = false;
	if (r.status == CS_OK) {
		char why[256];
		const struct tsc_overhead *o = &r.sh->overhead;
		unsigned flags = experiment_flags(cs->mech, (unsigned)cs->variant);
		uint64_t sub = (flags & MECH_SUBTRACT_PROBE_OVERHEAD) && o->stable ? o->min_cycles : 0;
		if (results_compute(&r.sh->s, st->env.tsc->tsc_khz, sub, &stats, why, sizeof(why)) == 0) {
			have = true;
		} else {
			r.status = CS_FAIL;
			snprintf(r.status_text, sizeof(r.status_text), "fail: %s", why);
		}
	}
	snprintf(row->status, sizeof(row->status), "%s", r.status_text);
	row->elapsed_s = r.elapsed_s;
	if (r.sh) {
		row->samples = r.sh->s.count;
		row->warmup_discarded = r.sh->s.warmup_discarded;
		row->missed = r.sh->s.missed;
		pmu_text(r.sh, row->pmu, sizeof(row->pmu));
	}
	if (have) {
		row->have_stats = true;
		row->ns = stats.ns;
		row->min_cycles = stats.min_cycles;
		row->p50_cycles = stats.p50_cycles;
		char path[4096];
		snprintf(path, sizeof(path), "%s/hist/%s.csv", st->out, cs->name);
		if (write_hist_csv(path, &stats.hist_ns) != 0)
			fprintf(stderr, "harness: cannot write %s: %s\n", path, strerror(errno));
		if (st->raw) {
			snprintf(path, sizeof(path), "%s/raw/%s.csv", st->out, cs->name);
			if (write_raw_csv(path, &r.sh->s) != 0)
				fprintf(stderr, "harness: cannot write %s: %s\n", path, strerror(errno));
		}
	}
	struct run_state_refs rs = { .refs = &st->suite.refs, .tsc_khz = st->env.tsc->tsc_khz };
	fill_reference(&rs, cs, have ? &stats : NULL, row);
	json_t *mc = meta_case(cs, &r, have ? &stats : NULL);
	if (!mc)   /* never drop a case silently: keep what identifies it */
		mc = json_pack("{s:o, s:s}", "case", json_text(cs->name), "meta_error", "its metadata could not be encoded");
	json_array_append_new(st->meta_cases, mc);

	if (r.status == CS_OK) {
		st->n_ok++;
		fprintf(stderr, "      ok  p50 %llu ns  p99 %llu ns  max %llu ns  (%.1f s)\n",
			(unsigned long long)stats.ns.p50, (unsigned long long)stats.ns.p99,
			(unsigned long long)stats.ns.max, r.elapsed_s);
	} else {
		if (r.status == CS_SKIP)
			st->n_skip++;
		else
			st->n_bad++;
		fprintf(stderr, "      %s  (%.1f s)\n", r.status_text, r.elapsed_s);
	}
	if (have)
		results_free(&stats);
	runner_release(&r);
}

/* Local time, as a folder-name stamp or as ISO 8601. */
static void timestamp(char *buf, size_t len, bool iso)
{
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	if (iso)
		strftime(buf, len, "%Y-%m-%dT%H:%M:%S%z", &tm);
	else
		strftime(buf, len, "%Y%m%d-%H%M%S", &tm);
}

/* The cases that name a paper's number, this machine beside it, in the paper's unit. */
static void print_references(const struct run_state *st)
{
	bool any = false, kvm_rows = false;
	for (size_t i = 0; i < st->n_rows; i++) {
		const struct summary_row *r = &st->rows[i];
		if (!r->reference[0] || !r->ref_ratio[0])
			continue;
		if (!any)
			fprintf(stderr, "\nBeside the papers (this run's statistic / the paper's number):\n"
				"%-44s %-5s %14s %14s %10s %10s  %s\n", "case", "stat", "here", "paper",
				"here/paper", "in time", "reference");
		any = true;
		const struct mechanism_ops *m = mechanism_find(r->mechanism);
		int v = m ? mechanism_variant_index(m, r->variant) : -1;
		if (v >= 0 && (experiment_flags(m, (unsigned)v) & MECH_NEEDS_KVM))
			kvm_rows = true;
		double ratio = atof(r->ref_ratio), paper = atof(r->ref_value);
		char here[32], ppr[32];
		snprintf(here, sizeof(here), "%.5g %s", ratio * paper, r->ref_unit);
		snprintf(ppr, sizeof(ppr), "%.5g %s", paper, r->ref_unit);
		fprintf(stderr, "%-44s %-5s %14s %14s %10s %10s  %s\n", r->case_name, r->ref_stat, here, ppr,
			r->ref_ratio, r->ref_ratio_time[0] ? r->ref_ratio_time : "-", r->reference);
	}
	json_t *nested = json_object_get(json_object_get(json_object_get(st->meta, "platform"), "kvm"),
					 "guests_are_nested");
	if (kvm_rows && json_is_true(nested))
		fprintf(stderr, "note: the KVM rows above are nested virtualization: this machine is itself a VM, so "
			"a guest's exits cost far more than on bare metal (meta.json: each case's kvm report)\n");
}

static int prepare_out(struct run_state *st, char *default_out, size_t len)
{
	if (!st->out) {
		char ts[32];
		timestamp(ts, sizeof(ts), false);
		/* the suite's name may hold '/' or "..": only a plain file name goes into the path */
		char safe[sizeof(st->suite.name)];
		snprintf(safe, sizeof(safe), "%s", st->suite.name);
		for (char *p = safe; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			      *p == '_' || *p == '-'))
				*p = '_';
		snprintf(default_out, len, "results/%s-%s", safe, ts);
		st->out = default_out;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/hist", st->out);
	if (mkdir_p(path) != 0) {
		fprintf(stderr, "harness: cannot create %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (st->raw) {
		snprintf(path, sizeof(path), "%s/raw", st->out);
		if (mkdir_p(path) != 0) {
			fprintf(stderr, "harness: cannot create %s: %s\n", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static json_t *run_meta(int argc, char **argv)
{
	char ts[64];
	timestamp(ts, sizeof(ts), true);
	json_t *args = json_array();
	for (int i = 0; i < argc; i++)
		json_array_append_new(args, json_text(argv[i]));
	return json_pack("{s:s, s:o, s:i, s:b}", "started", ts, "argv", args, "pid", (int)getpid(),
			 "ci", getenv("CI") != NULL);
}

int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "filter", required_argument, NULL, 'f' },
		{ "raw", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_state st;
	memset(&st, 0, sizeof(st));
	const char *filter = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:f:rh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': st.out = optarg; break;
		case 'f': filter = optarg; break;
		case 'r': st.raw = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "harness run: expected exactly one SUITE.toml\n");
		usage(stderr);
		return 2;
	}
	const char *suite_path = argv[optind];
	char err[1024];
	if (suite_load(suite_path, &st.suite, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (filter) {
		suite_filter(&st.suite, filter);
		if (st.suite.n_cases == 0) {
			fprintf(stderr, "harness run: no case of %s matches '%s'\n", suite_path, filter);
			suite_free(&st.suite);
			return 2;
		}
	}
	char default_out[1024];
	if (prepare_out(&st, default_out, sizeof(default_out)) != 0) {
		suite_free(&st.suite);
		return 2;
	}

	struct tsc_info tsc;
	struct tsc_overhead ovh;
	if (tsc_init(&tsc, 200, err, sizeof(err)) != 0) {
		fprintf(stderr, "harness: cannot establish a TSC time base: %s\n", err);
		suite_free(&st.suite);
		return 1;
	}
	tsc_measure_overhead(&ovh, 9, 10000);
	fprintf(stderr, "gapbench %s (%s): suite %s, %zu cases, TSC %llu kHz (%s, %+.0f ppm vs CLOCK_MONOTONIC_RAW), "
		"probe overhead %llu cycles%s\n", GAPBENCH_VERSION, GAPBENCH_GIT_REVISION, st.suite.name, st.suite.n_cases,
		(unsigned long long)tsc.tsc_khz, tsc_source_name(tsc.source), tsc.deviation_ppm,
		(unsigned long long)ovh.min_cycles, ovh.stable ? "" : " (UNSTABLE)");
	if (tsc.deviation_ppm > TSC_DEVIATION_WARN_PPM || tsc.deviation_ppm < -TSC_DEVIATION_WARN_PPM)
		fprintf(stderr, "harness: warning: the TSC frequency from %s is %+.0f ppm off CLOCK_MONOTONIC_RAW\n",
			tsc_source_name(tsc.source), tsc.deviation_ppm);
	if (!ovh.stable)
		fprintf(stderr, "harness: warning: the probe overhead is unstable (per-batch minima spread %llu cycles)\n",
			(unsigned long long)ovh.batch_min_spread);
	if (strcmp(GAPBENCH_SANITIZE, "none") != 0)
		fprintf(stderr, "harness: warning: sanitized build (%s): timings are not representative\n",
			GAPBENCH_SANITIZE);

	runner_init();
	st.env.tsc = &tsc;
	st.env.out_dir = st.out;
	st.env.interrupted = &interrupted;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	st.rows = calloc(st.suite.n_cases, sizeof(*st.rows));
	st.meta_cases = json_array();
	st.meta = json_pack("{s:o, s:o, s:o, s:o}", "suite", meta_suite(&st.suite), "run", run_meta(argc, argv),
			    "platform", platform_describe(&tsc, &ovh), "cases", json_incref(st.meta_cases));
	if (!st.rows || !st.meta) {
		fprintf(stderr, "harness: out of memory\n");
		return 1;
	}
	/* An output folder that cannot take the files fails now, not after every case ran. */
	if (save(&st) != 0) {
		suite_free(&st.suite);
		return 2;
	}
	int rc = 0;
	for (size_t i = 0; i < st.suite.n_cases; i++) {
		if (interrupted) {
			const struct case_spec *cs = &st.suite.cases[i];
			struct summary_row *row = &st.rows[st.n_rows++];
			memset(row, 0, sizeof(*row));
			snprintf(row->case_name, sizeof(row->case_name), "%s", cs->name);
			snprintf(row->mechanism, sizeof(row->mechanism), "%s", cs->mech->name);
			snprintf(row->variant, sizeof(row->variant), "%s", cs->mech->variants[cs->variant].name);
			snprintf(row->load, sizeof(row->load), "%s", cs->load_desc);
			snprintf(row->params, sizeof(row->params), "%s", cs->params);
			snprintf(row->status, sizeof(row->status), "fail: not run (interrupted)");
			json_array_append_new(st.meta_cases, json_pack("{s:o, s:s, s:s}", "case", json_text(cs->name),
							"mechanism", cs->mech->name, "status", row->status));
			st.n_bad++;
			continue;
		}
		run_one(&st, i);
		if (save(&st) != 0)
			rc = 1;
	}
	char data[4096];
	snprintf(data, sizeof(data), "%s/data", st.out);
	rmdir(data);   /* only when no case wrote files of its own */
	char ts[64];
	timestamp(ts, sizeof(ts), true);
	json_object_set_new(json_object_get(st.meta, "run"), "finished", json_string(ts));
	json_object_set_new(json_object_get(st.meta, "run"), "interrupted", json_boolean(interrupted));
	if (save(&st) != 0)
		rc = 1;
	print_references(&st);
	fprintf(stderr, "%zu cases: %u ok, %u skipped, %u failed%s; results in %s\n", st.suite.n_cases, st.n_ok,
		st.n_skip, st.n_bad, interrupted ? " (interrupted)" : "", st.out);
	if (st.n_bad)
		rc = 1;
	json_decref(st.meta_cases);
	json_decref(st.meta);
	free(st.rows);
	suite_free(&st.suite);
	return rc;
}
