/*
 * harness run SUITE.toml --out DIR: every case, each in its own process. This
 * file only runs them; every file and line about them comes from the
 * reporters (reporter.h).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "measure_lock.h"
#include "outdir.h"
#include "output.h"
#include "papers.h"
#include "platform.h"
#include "registry.h"
#include "repeat.h"
#include "reporter.h"
#include "results.h"
#include "resume.h"
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
		"usage: harness run SUITE.toml [--out DIR] [--force | --resume] [--filter GLOB] [--raw]\n"
		"                  [--junit FILE] [--no-lock]\n"
		"       harness run SUITE.toml --vm [--vm-cpus N] [--vm-mem MIB] [--vm-accel auto|kvm|tcg]\n"
		"                  [--vm-timeout S] [--vm-sample-scale F] [--vm-beside-host] [--out DIR]\n"
		"                  [--force] [--filter GLOB]\n"
		"                  [--raw] [--junit FILE] [--seed N]\n"
		"\n"
		"Runs every case of the suite, each in its own child process with its timeout.\n"
		"Each finished case is on disk at once: its DIR/hist/CASE.csv, a row appended\n"
		"to DIR/summary.csv and a record appended to DIR/cases.jsonl, each fsynced, so\n"
		"a harness that dies keeps every case it finished (--resume goes on from there).\n"
		"DIR/meta.json (the run, the machine, every case's settings and facts) is\n"
		"written at the start and assembled from cases.jsonl at the end, also after\n"
		"SIGINT, SIGTERM or SIGHUP, which end the run: the remaining cases read\n"
		"`fail: not run (interrupted)` and meta.json says interrupted.\n"
		"\n"
		"A case whose output cannot be written reads `fail: output: cannot write\n"
		"FILE: why`; a full disk stops the run (the remaining cases `fail: not run\n"
		"(disk full)`), and the last line says what summary.csv and meta.json hold.\n"
		"A closed stderr (`| head`) never ends a run: printing stops, measuring goes on.\n"
		"A text cell of summary.csv that a spreadsheet would take for a formula (it\n"
		"starts with =, +, -, @; numbers aside) is written as '=... in quotes (OWASP).\n"
		"\n"
		"  -o, --out DIR      results folder (default: results/SUITE-YYYYmmdd-HHMMSS);\n"
		"                     not \"\" or /. A folder that already holds anything is refused\n"
		"                     (exit 2) unless --force or --resume. DIR/.lock keeps a\n"
		"                     second run out of DIR while this one runs (exit 2, naming\n"
		"                     the pid of the run that holds it)\n"
		"      --force        first clear DIR of what a results folder holds (summary.csv,\n"
		"                     meta.json, cases.jsonl, hist/, raw/, data/, plots/, report.*);\n"
		"                     refused for a folder without summary.csv, meta.json or\n"
		"                     cases.jsonl; other files in it are left alone\n"
		"      --resume       keep the cases DIR has as ok (their summary.csv rows,\n"
		"                     cases.jsonl records and hist/ files byte for byte) and run\n"
		"                     only the cases missing or not ok; refused (exit 2) when the\n"
		"                     suite's sha256 differs from DIR/meta.json's, or DIR has a case\n"
		"                     the suite (after --filter) lacks. An empty DIR just runs\n"
		"  -f, --filter GLOB  run only cases whose name matches GLOB (fnmatch)\n"
		"  -r, --raw          also write DIR/raw/CASE.csv with every raw sample\n"
		"  -j, --junit FILE   also write FILE in JUnit XML for CI, at the start and at\n"
		"                     the end: a testcase per case (classname: its mechanism), a\n"
		"                     failure when it failed, timed out or was killed, skipped\n"
		"                     when it was skipped\n"
		"      --seed N       cases with repeat > 1 run in rounds, each in an order shuffled\n"
		"                     from a seed (recorded in meta.json's run.repetitions): give it\n"
		"                     to repeat a run's order\n"
		"      --no-lock      measure without the machine-wide measuring lock. By default a\n"
		"                     run measures only while it holds " MEASURE_LOCK_PATH "\n"
		"                     (" MEASURE_LOCK_FALLBACK " when /run is not writable;\n"
		"                     $" MEASURE_LOCK_ENV " names another): a second run waits,\n"
		"                     with a line saying so. meta.json's run.measure_lock lists the\n"
		"                     gapbench runs seen beside this one (pid, start)\n"
		"  -h, --help         this text\n"
		"\n"
		"In a VM (vm/run_vm.py; --vm --help says more):\n"
		"      --vm           boot Debian's cloud kernel under qemu with an initramfs of this\n"
		"                     harness, its libraries, cyclictest, tar, bzip2 (gcc and make when a\n"
		"                     case compiles), the suite and reference-data; run the suite in\n"
		"                     the guest (each case its own child, as here) and bring summary.csv,\n"
		"                     hist/, cases.jsonl and meta.json back into DIR. A column\n"
		"                     `placement` ends every row: `in vm (kvm)`, or under qemu's\n"
		"                     emulator `in vm (tcg: emulated, not a latency)`, whose times are\n"
		"                     never set beside a paper's. meta.json adds accel, vm (guest kernel,\n"
		"                     CPUs, memory) and host_platform; DIR/vm/ keeps the console and\n"
		"                     dmesg. A guest that panics or hangs ends the run (exit 1) with\n"
		"                     its console tail; no qemu outlives the harness, however it ends.\n"
		"                     The guest runs while this harness holds the host's measuring lock\n"
		"                     (--no-lock: without). Not with --resume\n"
		"      --vm-cpus N    guest CPUs (default 2)\n"
		"      --vm-mem MIB   guest memory (default 2048)\n"
		"      --vm-accel A   kvm (hardware virtualization: vmx/svm), tcg, or auto (default)\n"
		"      --vm-timeout S the whole guest's limit (default: 120 + the cases' timeouts)\n"
		"      --vm-sample-scale F  every case's samples, warm-up and duration_s times F in\n"
		"                     (0, 1] (default 1 under kvm, 0.1 under tcg; at least 200 samples, 1 s):\n"
		"                     the placement says `samples and durations xF`\n"
		"      --vm-beside-host  first run the suite here into DIR/host/, then in the guest\n"
		"                     into DIR, and write DIR/vm-vs-host.txt and DIR/plots/vm-vs-host.svg\n"
		"                     (per case the VM/native ratio, as harness compare DIR/host DIR)\n"
		"Every row of summary.csv names its placement: `native` without --vm, or, where\n"
		"CPUID says qemu's TCG runs this harness, `in vm (tcg: emulated, not a latency;\n"
		"found by CPUID)`.\n"
		"\n"
		"Exit status: 0 every case ok or skipped, 1 some case failed, timed out or\n"
		"was killed, or some output could not be written, 2 bad input (suite, options,\n"
		"DIR \"\", /, not empty, in use or unwritable).\n");
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
	bool force, resume, no_lock;
	struct suite suite;
	struct resume_state resumed;  /* --resume: what the folder keeps */
	struct measure_lock lock;
	struct run_env env;
	struct run_info info;         /* what the reporters read */
	struct rep_acc *acc;          /* per case: its repetitions so far (repeat > 1) */
	bool *finished;               /* per case: reported */
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
	snprintf(row->placement, sizeof(row->placement), "%s", papers_placement());
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

/* The parent's arithmetic on a finished run of a case: true with stats, or r's status says why not. */
static bool case_stats_of(const struct run_state *st, const struct case_spec *cs, struct case_result *r,
			  struct case_stats *stats)
{
	if (r->status != CS_OK)
		return false;
	char why[256];
	uint64_t sub = runner_subtract_cycles(cs, r);
	if (r->output_error[0]) {
		r->status = CS_FAIL;
		snprintf(r->status_text, sizeof(r->status_text), "fail: output: %s", r->output_error);
		return false;
	}
	if (results_compute(&r->sh->s, st->env.tsc->tsc_khz, sub, stats, why, sizeof(why)) != 0) {
		r->status = CS_FAIL;
		snprintf(r->status_text, sizeof(r->status_text), "fail: %s", why);
		return false;
	}
	return true;
}

/*
 * Hand a finished case to the reporters: r is its (last) run, stats its
 * statistics (over every repetition when acc is given) or NULL. -1 when
 * some reporter could not write.
 */
static int report_case(struct run_state *st, size_t idx, struct case_result *r, const struct case_stats *stats,
		       const struct rep_acc *acc)
{
	const struct case_spec *cs = &st->suite.cases[idx];
	struct summary_row row;
	row_identity(&row, cs);
	snprintf(row.status, sizeof(row.status), "%s", r->status_text);
	row.elapsed_s = acc ? acc->elapsed_s : r->elapsed_s;
	if (r->sh) {
		row.samples = acc ? acc->samples : r->sh->s.count;
		row.warmup_discarded = acc ? acc->warmup : r->sh->s.warmup_discarded;
		row.missed = acc ? acc->missed : r->sh->s.missed;
		pmu_text(r->sh, row.pmu, sizeof(row.pmu));
	}
	if (stats) {
		row.have_stats = true;
		row.ns = stats->ns;
		row.min_cycles = stats->min_cycles;
		row.p50_cycles = stats->p50_cycles;
	}
	uint64_t p50s[1000];
	if (acc && stats && acc->done > 1) {
		double coverage;
		for (unsigned i = 0; i < acc->done; i++)
			p50s[i] = acc->reps[i].p50;
		rep_median_interval(p50s, acc->done, 0.95, &row.rep_p50_median, &row.rep_p50_lo, &row.rep_p50_hi,
				    &coverage);
	}
	row.repeats = acc ? acc->done : 1;
	papers_fill_row(&st->suite.refs, st->env.tsc->tsc_khz, cs, stats, &row);

	struct case_record rec = { .index = idx, .spec = cs, .status = r->status, .result = r, .stats = stats,
				   .row = &row, .reps = acc ? acc->reps : NULL, .n_reps = acc ? acc->done : 0 };
	int rc = reporters_case_done(&st->reporters, &st->info, &rec);
	count(&st->totals, rec.status);   /* as written: an output failure made it a failure */
	if (rec.disk_full)
		st->totals.disk_full = true;
	return rc;
}

/* Run one case (repeat = 1) and hand it to the reporters; -1 when some reporter could not write. */
static int run_one(struct run_state *st, size_t idx)
{
	const struct case_spec *cs = &st->suite.cases[idx];
	reporters_case_start(&st->reporters, &st->info, idx, cs);
	struct case_result r;
	runner_run_case(cs, &st->env, &r);
	struct case_stats stats;
	bool have = case_stats_of(st, cs, &r, &stats);
	int rc = report_case(st, idx, &r, have ? &stats : NULL, NULL);
	if (have)
		results_free(&stats);
	runner_release(&r);
	return rc;
}

/*
 * Repetition `rep` (from 0) of a case with repeat > 1. The case is reported
 * after its last repetition, with statistics over all of them, or at once
 * when a repetition is not ok (its status, saying which repetition).
 */
static int run_repetition(struct run_state *st, size_t idx, unsigned rep)
{
	const struct case_spec *cs = &st->suite.cases[idx];
	struct rep_acc *acc = &st->acc[idx];
	unsigned want = (unsigned)cs->set.repeat;
	if (rep == 0) {
		reporters_case_start(&st->reporters, &st->info, idx, cs);
		if (rep_init(acc, want) != 0) {
			fprintf(stderr, "harness: out of memory\n");
			return -1;
		}
	}
	struct case_result r;
	runner_run_case(cs, &st->env, &r);
	struct case_stats stats;
	bool have = case_stats_of(st, cs, &r, &stats);
	int rc = 0;
	if (have && rep_add(acc, &stats, &r) == 0) {
		results_free(&stats);
		if (acc->done == want) {
			rep_finish(acc);
			rc = report_case(st, idx, &r, &acc->merged, acc);
			st->finished[idx] = true;
			rep_free(acc);
		} else {
			console_printf("      %s: repetition %u of %u: p50 %llu ns\n", cs->name, rep + 1, want,
				       (unsigned long long)acc->reps[acc->done - 1].p50);
		}
	} else {
		if (have)
			results_free(&stats);
		char text[sizeof(r.status_text)];
		snprintf(text, sizeof(text), "%.*s (repetition %u of %u)", (int)sizeof(text) - 32, r.status_text, rep + 1,
			 want);
		memcpy(r.status_text, text, sizeof(text));
		if (r.status == CS_OK)
			r.status = CS_FAIL;
		rc = report_case(st, idx, &r, NULL, NULL);
		st->finished[idx] = true;
		rep_free(acc);
	}
	runner_release(&r);
	return rc;
}

/* --resume: a case the folder already has as ok; its files stay as they are. */
static int keep_one(struct run_state *st, size_t idx)
{
	struct summary_row row;
	if (resume_row(&st->resumed, idx, &row) != 0)
		row_identity(&row, &st->suite.cases[idx]);
	snprintf(row.status, sizeof(row.status), "ok");
	struct case_record rec = { .index = idx, .spec = &st->suite.cases[idx], .status = CS_OK, .row = &row,
				   .kept = true };
	int rc = reporters_case_done(&st->reporters, &st->info, &rec);
	count(&st->totals, rec.status);
	return rc;
}

/* A case the run never reached (interrupted, or the disk is full): a failure the reporters still see. */
static int skip_one(struct run_state *st, size_t idx, const char *why)
{
	const struct case_spec *cs = &st->suite.cases[idx];
	struct summary_row row;
	row_identity(&row, cs);
	snprintf(row.status, sizeof(row.status), "fail: not run (%s)", why);
	struct case_record rec = { .index = idx, .spec = cs, .status = CS_FAIL, .row = &row };
	int rc = reporters_case_done(&st->reporters, &st->info, &rec);
	count(&st->totals, rec.status);
	return rc;
}

/* The default folder's name: results/SUITE-YYYYmmdd-HHMMSS, the suite's name made a plain file name. */
static void default_out_path(const struct suite *suite, char *buf, size_t len)
{
	char ts[32];
	local_timestamp(ts, sizeof(ts), false);
	char safe[sizeof(suite->name)];
	snprintf(safe, sizeof(safe), "%s", suite->name);
	for (char *p = safe; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		      *p == '-'))
			*p = '_';
	snprintf(buf, len, "results/%s-%s", safe, ts);
}

/*
 * The results folder: created and locked; empty, cleared (--force) or
 * resumed (--resume); hist/ (and raw/) made. Returns 0 or -1 after one
 * line on stderr (exit 2). The folder's lock is held until the harness exits.
 */
static int prepare_out(struct run_state *st)
{
	char err[4600];
	bool busy;
	if (outdir_lock(st->out, &busy, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	struct outdir_contents c;
	if (outdir_inspect(st->out, &c, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	if (c.n_entries && !st->force && !st->resume) {
		fprintf(stderr, "harness run: %s is not empty (%s): --resume finishes the run it holds, --force "
			"replaces it, or name another folder\n", st->out, c.names);
		return -1;
	}
	if (c.n_entries && st->force) {
		if (!c.results) {
			fprintf(stderr, "harness run: --force: %s does not look like a results folder (no summary.csv, "
				"meta.json or cases.jsonl; it holds %s): not clearing it\n", st->out, c.names);
			return -1;
		}
		if (outdir_clear(st->out, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			return -1;
		}
		if (c.n_foreign)
			fprintf(stderr, "harness run: --force left %s in %s: harness run did not write it\n", c.foreign,
				st->out);
	}
	if (c.n_entries && st->resume) {
		if (resume_load(st->out, &st->suite, &st->resumed, err, sizeof(err)) != 0 ||
		    resume_clean(st->out, &st->suite, &st->resumed, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			return -1;
		}
		st->info.resume = &st->resumed;
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

/* xorshift64*: the shuffle of each round's order, reproducible from the recorded seed */
static uint64_t next_random(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 2685821657736338717ull;
}

/*
 * Every case: in suite order when none repeats; with repetitions, the kept
 * cases (--resume) first, then rounds, each running once every case that has
 * repetitions left, in an order shuffled from run_info.order_seed, so that a
 * drift of the machine hits every case alike. Cases the run does not finish
 * (interrupted, full disk) are reported as not run. Returns -1 when some
 * output could not be written.
 */
static int run_cases(struct run_state *st)
{
	size_t n = st->suite.n_cases;
	unsigned rounds = 1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned)st->suite.cases[i].set.repeat > rounds)
			rounds = (unsigned)st->suite.cases[i].set.repeat;
	st->info.rounds = rounds;
	st->acc = calloc(n ? n : 1, sizeof(*st->acc));
	st->finished = calloc(n ? n : 1, sizeof(*st->finished));
	size_t *order = calloc(n ? n : 1, sizeof(*order));
	if (!st->acc || !st->finished || !order) {
		free(order);
		fprintf(stderr, "harness: out of memory\n");
		return -1;
	}
	int rc = 0;
	uint64_t rng = st->info.order_seed | 1;
	for (unsigned round = 0; round < rounds; round++) {
		size_t m = 0;
		for (size_t i = 0; i < n; i++)
			if (!st->finished[i] && (unsigned)st->suite.cases[i].set.repeat > round)
				order[m++] = i;
		if (rounds > 1)   /* Fisher-Yates */
			for (size_t k = m; k > 1; k--) {
				size_t j = (size_t)(next_random(&rng) % k);
				size_t t = order[k - 1];
				order[k - 1] = order[j];
				order[j] = t;
			}
		for (size_t k = 0; k < m && !interrupted && !st->totals.disk_full; k++) {
			size_t i = order[k];
			int one;
			if (st->info.resume && st->resumed.row[i]) {
				one = keep_one(st, i);
				st->finished[i] = true;
			} else {
				measure_lock_observe(&st->lock);   /* a --no-lock run that started since */
				if (st->suite.cases[i].set.repeat > 1) {
					one = run_repetition(st, i, round);
				} else {
					one = run_one(st, i);
					st->finished[i] = true;
				}
			}
			if (one != 0)
				rc = -1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (st->finished[i])
			continue;
		char why[96];
		if (st->acc[i].done)
			snprintf(why, sizeof(why), "%s after %u of %lld repetitions", interrupted ? "interrupted" : "disk full",
				 st->acc[i].done, (long long)st->suite.cases[i].set.repeat);
		else
			snprintf(why, sizeof(why), "%s", interrupted ? "interrupted" : "disk full");
		if (skip_one(st, i, why) != 0)
			rc = -1;
		rep_free(&st->acc[i]);
		st->finished[i] = true;
	}
	free(order);
	return rc;
}

static void run_state_free(struct run_state *st)
{
	free(st->acc);
	free(st->finished);
	reporters_free(&st->reporters);
	json_decref(st->info.platform);
	measure_lock_release(&st->lock);
	resume_free(&st->resumed);
	suite_free(&st->suite);
}

int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "filter", required_argument, NULL, 'f' },
		{ "raw", no_argument, NULL, 'r' },
		{ "junit", required_argument, NULL, 'j' },
		{ "force", no_argument, NULL, 'F' },
		{ "resume", no_argument, NULL, 'R' },
		{ "no-lock", no_argument, NULL, 'L' },
		{ "seed", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	if (run_wants_vm(argc, argv))
		return run_in_vm(argc, argv);
	struct run_state st;
	memset(&st, 0, sizeof(st));
	const char *filter = NULL;
	bool seed_given = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:f:rj:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': st.out = optarg; break;
		case 'f': filter = optarg; break;
		case 'r': st.raw = true; break;
		case 'j': st.junit = optarg; break;
		case 'F': st.force = true; break;
		case 'R': st.resume = true; break;
		case 'L': st.no_lock = true; break;
		case 'S': {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-') {
				fprintf(stderr, "harness run: --seed wants a whole number, got '%s'\n", optarg);
				return 2;
			}
			st.info.order_seed = (unsigned long)v;
			seed_given = true;
			break;
		}
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "harness run: expected exactly one SUITE.toml\n");
		usage(stderr);
		return 2;
	}
	char err[1024];
	if (st.force && st.resume) {
		fprintf(stderr, "harness run: --force and --resume exclude each other\n");
		return 2;
	}
	if (st.out && outdir_check_path(st.out, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	const char *suite_path = argv[optind];
	if (suite_load(suite_path, &st.suite, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (vm_scale_samples(&st.suite) != 0) {
		suite_free(&st.suite);
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
	if (!st.out) {
		default_out_path(&st.suite, default_out, sizeof(default_out));
		st.out = default_out;
	}
	if (prepare_out(&st) != 0) {
		run_state_free(&st);
		return 2;
	}

	/* SIGHUP (the terminal closed) ends the run as SIGINT and SIGTERM do; a closed stderr does not */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* the time base and the probe pair are measurements too: under the lock */
	char started[64];
	local_timestamp(started, sizeof(started), true);
	if (measure_lock_take(&st.lock, !st.no_lock, started, st.out, &interrupted) != 0) {
		fprintf(stderr, "harness: interrupted while waiting for the measuring lock; nothing ran\n");
		run_state_free(&st);
		return 1;
	}
	st.info.lock = st.lock.info;

	struct tsc_info tsc;
	struct tsc_overhead ovh;
	if (tsc_init(&tsc, 200, err, sizeof(err)) != 0) {
		fprintf(stderr, "harness: cannot establish a TSC time base: %s\n", err);
		run_state_free(&st);
		return 1;
	}
	tsc_measure_overhead(&ovh, 9, 10000);

	runner_init();
	st.env.tsc = &tsc;
	st.env.out_dir = st.out;
	st.env.interrupted = &interrupted;

	st.info.suite = &st.suite;
	st.info.out = st.out;
	st.info.raw = st.raw;
	st.info.argc = argc;
	st.info.argv = argv;
	st.info.tsc = &tsc;
	st.info.overhead = &ovh;
	st.info.platform = platform_describe(&tsc, &ovh);
	/*
	 * The files first, as case_done reaches them in this order: hist/ before
	 * the case's record and row, so that an ok row never lacks its histogram.
	 * The console first of the views: it opens the run and has the last word.
	 */
	int rc = reporters_add(&st.reporters, &reporter_hist_csv, NULL) |
		 reporters_add(&st.reporters, &reporter_meta_json, NULL) |
		 reporters_add(&st.reporters, &reporter_summary_csv, NULL) |
		 reporters_add(&st.reporters, &reporter_console, NULL) |
		 reporters_add(&st.reporters, &reporter_papers, NULL);
	if (st.junit)
		rc |= reporters_add(&st.reporters, &reporter_junit, st.junit);
	if (rc != 0 || !st.info.platform) {
		fprintf(stderr, "harness: out of memory\n");
		run_state_free(&st);
		return 1;
	}
	if (!seed_given) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		st.info.order_seed = (unsigned long)ts.tv_sec * 1000003ul ^ (unsigned long)ts.tv_nsec ^ (unsigned long)getpid();
	}
	for (size_t i = 0; i < st.suite.n_cases; i++)   /* meta.json records the rounds and the seed */
		if ((unsigned)st.suite.cases[i].set.repeat > st.info.rounds)
			st.info.rounds = (unsigned)st.suite.cases[i].set.repeat;
	/* An output that cannot be written fails now, not after every case ran. */
	if (reporters_run_start(&st.reporters, &st.info) != 0) {
		run_state_free(&st);
		return 2;
	}
	if (run_cases(&st) != 0)
		rc = 1;
	measure_lock_observe(&st.lock);
	char data[4096];
	snprintf(data, sizeof(data), "%s/data", st.out);
	rmdir(data);   /* only when no case wrote files of its own */
	st.totals.interrupted = interrupted;
	if (reporters_run_end(&st.reporters, &st.info, &st.totals) != 0)
		rc = 1;
	if (st.totals.n_bad || st.totals.output_error[0] || st.totals.rows_on_disk != st.suite.n_cases)
		rc = 1;
	run_state_free(&st);
	return rc;
}
