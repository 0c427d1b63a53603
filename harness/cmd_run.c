/*
 * harness run SUITE.toml --out DIR: every case, each in its own process. This
 * file only runs them; every file and line about them comes from the
 * reporters (reporter.h).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "output.h"
#include "papers.h"
#include "platform.h"
#include "registry.h"
#include "reporter.h"
#include "results.h"
#include "runner.h"
#include "suite.h"

static volatile int interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: harness run SUITE.toml [--out DIR] [--filter GLOB] [--raw] [--junit FILE]\n"
		"\n"
		"Runs every case of the suite, each in its own child process with its timeout,\n"
		"and writes DIR/summary.csv, DIR/hist/CASE.csv and DIR/meta.json (rewritten\n"
		"atomically after every case, so an interrupted run keeps what it measured).\n"
		"\n"
		"  -o, --out DIR      results folder (default: results/SUITE-YYYYmmdd-HHMMSS)\n"
		"  -f, --filter GLOB  run only cases whose name matches GLOB (fnmatch)\n"
		"  -r, --raw          also write DIR/raw/CASE.csv with every raw sample\n"
		"  -j, --junit FILE   also write FILE in JUnit XML for CI, rewritten after every\n"
		"                     case: a testcase per case (classname: its mechanism), a\n"
		"                     failure when it failed, timed out or was killed, skipped\n"
		"                     when it was skipped\n"
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

struct run_state {
	const char *out;
	bool raw;
	const char *junit;            /* --junit FILE, or NULL */
	struct suite suite;
	struct run_env env;
	struct run_info info;         /* what the reporters read */
	struct reporter_set reporters;
	struct run_totals totals;
};

/* The cells that identify a case in its summary row. */
static void row_identity(struct summary_row *row, const struct case_spec *cs)
{
	memset(row, 0, sizeof(*row));
	snprintf(row->case_name, sizeof(row->case_name), "%s", cs->name);
	snprintf(row->mechanism, sizeof(row->mechanism), "%s", cs->mech->name);
	snprintf(row->variant, sizeof(row->variant), "%s", cs->mech->variants[cs->variant].name);
	snprintf(row->load, sizeof(row->load), "%s", cs->load_desc);
	snprintf(row->params, sizeof(row->params), "%s", cs->params);
}

static void count(struct run_totals *t, enum case_status status)
{
	if (status == CS_OK)
		t->n_ok++;
	else if (status == CS_SKIP)
		t->n_skip++;
	else
		t->n_bad++;
}

/* Run one case and hand it to the reporters; -1 when some reporter could not write. */
static int run_one(struct run_state *st, size_t idx)
{
	const struct case_spec *cs = &st->suite.cases[idx];
	struct summary_row row;
	row_identity(&row, cs);

	reporters_case_start(&st->reporters, &st->info, idx, cs);
	struct case_result r;
	runner_run_case(cs, &st->env, &r);

	struct case_stats stats;
	bool have = false;
	if (r.status == CS_OK) {
		char why[256];
		uint64_t sub = runner_subtract_cycles(cs, &r);
		if (r.output_error[0]) {
			r.status = CS_FAIL;
			snprintf(r.status_text, sizeof(r.status_text), "fail: output: %s", r.output_error);
		} else if (results_compute(&r.sh->s, st->env.tsc->tsc_khz, sub, &stats, why, sizeof(why)) == 0) {
			have = true;
		} else {
			r.status = CS_FAIL;
			snprintf(r.status_text, sizeof(r.status_text), "fail: %s", why);
		}
	}
	snprintf(row.status, sizeof(row.status), "%s", r.status_text);
	row.elapsed_s = r.elapsed_s;
	if (r.sh) {
		row.samples = r.sh->s.count;
		row.warmup_discarded = r.sh->s.warmup_discarded;
		row.missed = r.sh->s.missed;
		pmu_text(r.sh, row.pmu, sizeof(row.pmu));
	}
	if (have) {
		row.have_stats = true;
		row.ns = stats.ns;
		row.min_cycles = stats.min_cycles;
		row.p50_cycles = stats.p50_cycles;
	}
	papers_fill_row(&st->suite.refs, st->env.tsc->tsc_khz, cs, have ? &stats : NULL, &row);

	count(&st->totals, r.status);
	struct case_record rec = { .index = idx, .spec = cs, .status = r.status, .result = &r,
				   .stats = have ? &stats : NULL, .row = &row };
	int rc = reporters_case_done(&st->reporters, &st->info, &rec);
	if (have)
		results_free(&stats);
	runner_release(&r);
	return rc;
}

/* A case the run never reached (interrupted): a failure the reporters still see. */
static int skip_one(struct run_state *st, size_t idx)
{
	const struct case_spec *cs = &st->suite.cases[idx];
	struct summary_row row;
	row_identity(&row, cs);
	snprintf(row.status, sizeof(row.status), "fail: not run (interrupted)");
	count(&st->totals, CS_FAIL);
	struct case_record rec = { .index = idx, .spec = cs, .status = CS_FAIL, .row = &row };
	return reporters_case_done(&st->reporters, &st->info, &rec);
}

static int prepare_out(struct run_state *st, char *default_out, size_t len)
{
	if (!st->out) {
		char ts[32];
		local_timestamp(ts, sizeof(ts), false);
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

int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "filter", required_argument, NULL, 'f' },
		{ "raw", no_argument, NULL, 'r' },
		{ "junit", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_state st;
	memset(&st, 0, sizeof(st));
	const char *filter = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:f:rj:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': st.out = optarg; break;
		case 'f': filter = optarg; break;
		case 'r': st.raw = true; break;
		case 'j': st.junit = optarg; break;
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

	runner_init();
	st.env.tsc = &tsc;
	st.env.out_dir = st.out;
	st.env.interrupted = &interrupted;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	st.info = (struct run_info){ .suite = &st.suite, .out = st.out, .raw = st.raw, .argc = argc, .argv = argv,
				     .tsc = &tsc, .overhead = &ovh, .platform = platform_describe(&tsc, &ovh) };
	/* the console first: it opens the run and, as run_end goes backwards, has the last word */
	int rc = reporters_add(&st.reporters, &reporter_console, NULL) |
		 reporters_add(&st.reporters, &reporter_papers, NULL) |
		 reporters_add(&st.reporters, &reporter_summary_csv, NULL) |
		 reporters_add(&st.reporters, &reporter_hist_csv, NULL) |
		 reporters_add(&st.reporters, &reporter_meta_json, NULL);
	if (st.junit)
		rc |= reporters_add(&st.reporters, &reporter_junit, st.junit);
	if (rc != 0 || !st.info.platform) {
		fprintf(stderr, "harness: out of memory\n");
		reporters_free(&st.reporters);
		json_decref(st.info.platform);
		suite_free(&st.suite);
		return 1;
	}
	/* An output that cannot be written fails now, not after every case ran. */
	if (reporters_run_start(&st.reporters, &st.info) != 0) {
		reporters_free(&st.reporters);
		json_decref(st.info.platform);
		suite_free(&st.suite);
		return 2;
	}
	for (size_t i = 0; i < st.suite.n_cases; i++)
		if ((interrupted ? skip_one(&st, i) : run_one(&st, i)) != 0)
			rc = 1;
	char data[4096];
	snprintf(data, sizeof(data), "%s/data", st.out);
	rmdir(data);   /* only when no case wrote files of its own */
	st.totals.interrupted = interrupted;
	if (reporters_run_end(&st.reporters, &st.info, &st.totals) != 0)
		rc = 1;
	if (st.totals.n_bad)
		rc = 1;
	reporters_free(&st.reporters);
	json_decref(st.info.platform);
	suite_free(&st.suite);
	return rc;
}
