/* Suite parsing: sweeps expand, and every kind of bad input names file, line and key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "suite.h"

static char dir[] = "/tmp/gapbench-test-suite-XXXXXX";

static const char *write_suite(const char *name, const char *text)
{
	return check_write_file(dir, name, text);
}

static void test_good(void)
{
	const char *p = write_suite("good.toml",
		"[suite]\nname = \"g\"\ndescription = \"a test\"\n"
		"[defaults]\nsamples = 500\npriority = 0\n"
		"[[case]]\nmechanism = \"syscall\"\nvariant = [\"getppid\", \"invalid\"]\nwarmup = [0, 10]\n"
		"[[case]]\nname = \"floor\"\nmechanism = \"null\"\nsamples = 42\ntimeout_s = 5\n"
		"pmu = [\"INSTRUCTIONS_RETIRED\", \"cycles\"]\n");
	struct suite s;
	char err[1024] = "";
	int rc = suite_load(p, &s, err, sizeof(err));
	CHECK(rc == 0);
	if (rc) {
		fprintf(stderr, "unexpected error: %s\n", err);
		return;
	}
	CHECK(strcmp(s.name, "g") == 0);
	CHECK(strlen(s.sha256_hex) == 64);
	CHECK_EQ_U64(s.n_cases, 5);
	if (s.n_cases == 5) {
		/* sorted keys: variant before warmup; the last key varies fastest */
		CHECK(strcmp(s.cases[0].name, "syscall-getppid-warmup=0") == 0);
		CHECK(strcmp(s.cases[1].name, "syscall-getppid-warmup=10") == 0);
		CHECK(strcmp(s.cases[2].name, "syscall-invalid-warmup=0") == 0);
		CHECK(strcmp(s.cases[3].name, "syscall-invalid-warmup=10") == 0);
		CHECK_EQ_U64(s.cases[3].set.warmup, 10);
		CHECK_EQ_U64(s.cases[3].set.samples, 500);   /* from [defaults] */
		CHECK_EQ_U64(s.cases[0].set.timeout_s, 60);  /* built-in default */
		CHECK(strcmp(s.cases[4].name, "floor") == 0);
		CHECK_EQ_U64(s.cases[4].set.samples, 42);
		CHECK_EQ_U64(s.cases[4].n_pmu, 2);
		CHECK(strcmp(s.cases[4].pmu_events[1], "cycles") == 0);
		CHECK(strcmp(s.cases[4].load_desc, "none") == 0);
	}
	suite_filter(&s, "syscall-invalid-*");
	CHECK_EQ_U64(s.n_cases, 2);
	suite_free(&s);
}

struct bad_case {
	const char *file;
	const char *text;
	const char *expect;   /* substring of the one-line error */
};

#define X10 "xxxxxxxxxx"
#define X100 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10
#define PMU_LONG X100 X100 X100 X100 X100
#define DESC_LONG X100 X100 X100 X100 X100 X100

static const struct bad_case bad[] = {
	{ "unknown_key.toml", "[[case]]\nmechanism = \"null\"\n\nbogus = 1\n", "unknown_key.toml:4: key 'bogus': unknown key" },
	{ "wrong_type.toml", "[[case]]\nmechanism = \"null\"\nsamples = \"many\"\n", "wrong_type.toml:3: key 'samples': expected int, got string" },
	{ "range.toml", "[[case]]\nmechanism = \"null\"\npriority = 100\n", "range.toml:3: key 'priority': 100 is out of range [0, 99]" },
	{ "no_mech.toml", "[[case]]\nsamples = 1\n", "no_mech.toml:1: key 'mechanism': every case needs a mechanism" },
	{ "unknown_mech.toml", "[[case]]\nmechanism = \"warp-drive\"\n", "unknown_mech.toml:2: key 'mechanism': no mechanism 'warp-drive'" },
	{ "variant.toml", "[[case]]\nmechanism = \"syscall\"\nvariant = [\"getppid\", \"nope\"]\n", "variant.toml:3: key 'variant': mechanism 'syscall' has no variant 'nope'" },
	{ "dup.toml", "[[case]]\nmechanism = \"null\"\n[[case]]\nmechanism = \"null\"\n", "dup.toml:3: key 'name': case name 'null' is used twice (first at line 1)" },
	{ "syntax.toml", "[[case]]\nmechanism = \"null\nsamples = 3\n", "syntax.toml:2:" },
	{ "empty_list.toml", "[[case]]\nmechanism = \"null\"\nsamples = []\n", "empty_list.toml:3: key 'samples': an empty list sweeps nothing" },
	{ "defaults.toml", "[defaults]\nmsg_bytes = 3\n[[case]]\nmechanism = \"null\"\n", "defaults.toml:2: key 'msg_bytes': unknown key in [defaults]" },
	{ "top.toml", "title = \"x\"\n[[case]]\nmechanism = \"null\"\n", "top.toml:1: key 'title': unknown top-level key" },
	{ "nocase.toml", "[suite]\nname = \"x\"\n", "nocase.toml:1: key 'case': a suite needs at least one [[case]]" },
	{ "load.toml", "[[case]]\nmechanism = \"null\"\nload = \"volcano\"\n", "load.toml:3: key 'load': no load generator 'volcano'" },
	{ "float.toml", "[[case]]\nmechanism = \"null\"\nsamples = 1.5\n", "float.toml:3: key 'samples': expected int, got float" },
	{ "nested.toml", "[[case]]\nmechanism = \"null\"\nsamples = [[1]]\n", "nested.toml:3: key 'samples': a swept list holds scalars" },
	/* text C would see cut short, or that is not text */
	{ "nul_string.toml", "[[case]]\nmechanism = \"null\\u0000junk\"\n", "nul_string.toml:2:" },
	{ "nul_key.toml", "[[case]]\nmechanism = \"null\"\n\"samples\\u0000junk\" = 400\n", "nul_key.toml:3:" },
	{ "ctl_key.toml", "[[case]]\nmechanism = \"null\"\n\"sam\\u0007ples\" = 400\n", "ctl_key.toml:3:" },
	{ "pmu_empty.toml", "[[case]]\nmechanism = \"null\"\npmu = \"\"\n", "pmu_empty.toml:3: key 'pmu': event names are non-empty" },
	{ "pmu_long.toml", "[[case]]\nmechanism = \"null\"\npmu = \"" PMU_LONG "\"\n", "pmu_long.toml:3: key 'pmu': event names are non-empty strings under" },
	/* an option's form is checked at load, not in setup */
	{ "qos_form.toml", "[[case]]\nmechanism = \"hijack\"\nvariant = \"qos-tokens\"\nqos = \"abc\"\n", "qos_form.toml:4: key 'qos': 'abc': want three percentages" },
	{ "formula.toml", "[[case]]\nname = \"=cmd\"\nmechanism = \"null\"\n", "formula.toml:2: key 'name': '=cmd': a case name may not start with" },
	{ "dot.toml", "[[case]]\nname = \".\"\nmechanism = \"null\"\n", "dot.toml:2: key 'name': '.' cannot name a case" },
	{ "dotdot.toml", "[[case]]\nname = \"..\"\nmechanism = \"null\"\n", "dotdot.toml:2: key 'name': '..' cannot name a case" },
	{ "longname.toml", "[suite]\nname = \"" DESC_LONG "\"\n[[case]]\nmechanism = \"null\"\n", "longname.toml:2: key 'name': a suite name is one line of at most 127 bytes" },
	/* an experiment's option on another experiment: named with the variant that lacks it, key before variant too */
	{ "other_exp.toml", "[[case]]\nmechanism = \"clock\"\nsleep_ns = 1000\nvariant = \"read\"\n",
	  "other_exp.toml:3: key 'sleep_ns': option of clock variant(s) sleep, not of variant 'read'" },
	{ "other_exp_sweep.toml", "[[case]]\nmechanism = \"clock\"\nvariant = [\"sleep\", \"read\"]\nsleep_ns = 1000\n",
	  "other_exp_sweep.toml:4: key 'sleep_ns': option of clock variant(s) sleep, not of variant 'read'" },
};

static void test_bad(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *p = write_suite(bad[i].file, bad[i].text);
		struct suite s;
		char err[1024] = "";
		int rc = suite_load(p, &s, err, sizeof(err));
		CHECK(rc != 0);
		if (rc == 0) {
			fprintf(stderr, "  %s was accepted\n", bad[i].file);
			suite_free(&s);
			continue;
		}
		if (!strstr(err, bad[i].expect)) {
			fprintf(stderr, "  %s: got \"%s\", want \"%s\"\n", bad[i].file, err, bad[i].expect);
			check_failures++;
		}
		CHECK(strchr(err, '\n') == NULL);   /* one line */
		CHECK(strncmp(err, dir, strlen(dir)) == 0); /* starts with the path */
	}
	struct suite s;
	char err[1024];
	CHECK(suite_load("/nonexistent/gapbench.toml", &s, err, sizeof(err)) != 0);
	CHECK(strstr(err, "/nonexistent/gapbench.toml: No such file or directory") != NULL);
}

/* include = [...]: the included suites' cases as they stand, then the suite's own; mistakes named. */
static void test_include(void)
{
	write_suite("inc_a.toml", "[defaults]\nsamples = 7\n[[case]]\nname = \"a\"\nmechanism = \"null\"\n");
	write_suite("inc_b.toml", "[suite]\ninclude = [\"inc_a.toml\"]\n[[case]]\nname = \"b\"\nmechanism = \"null\"\n");
	const char *top = write_suite("inc_top.toml", "[suite]\nname = \"top\"\ninclude = [\"inc_b.toml\"]\n"
						      "[defaults]\nsamples = 9\n[[case]]\nname = \"c\"\nmechanism = \"null\"\n");
	struct suite s;
	char err[1024] = "";
	int rc = suite_load(top, &s, err, sizeof(err));
	CHECK_MSG(rc == 0, "%s", err);
	if (rc == 0) {
		CHECK_EQ_U64(s.n_cases, 3);
		CHECK(strcmp(s.cases[0].name, "a") == 0 && s.cases[0].set.samples == 7);   /* its own defaults */
		CHECK(strcmp(s.cases[1].name, "b") == 0 && s.cases[1].set.samples == 10000);
		CHECK(strcmp(s.cases[2].name, "c") == 0 && s.cases[2].set.samples == 9);
		CHECK(strcmp(s.name, "top") == 0);
		char first[65];
		snprintf(first, sizeof(first), "%s", s.sha256_hex);
		suite_free(&s);
		/* the hash covers what it includes */
		write_suite("inc_a.toml", "[defaults]\nsamples = 8\n[[case]]\nname = \"a\"\nmechanism = \"null\"\n");
		CHECK(suite_load(top, &s, err, sizeof(err)) == 0);
		CHECK(strcmp(first, s.sha256_hex) != 0);
		suite_free(&s);
	}
	/* a prefix keeps two suites' case names apart */
	const char *pre = write_suite("inc_pre.toml", "[suite]\ninclude = [\"inc_a.toml\", { file = \"inc_a.toml\", prefix = \"x.\" }]\n");
	rc = suite_load(pre, &s, err, sizeof(err));
	CHECK_MSG(rc == 0, "%s", err);
	if (rc == 0) {
		CHECK_EQ_U64(s.n_cases, 2);
		CHECK(strcmp(s.cases[1].name, "x.a") == 0);
		suite_free(&s);
	}
	struct { const char *file, *text, *want; } inc_bad[] = {
		{ "inc_loop.toml", "[suite]\ninclude = [\"inc_loop.toml\"]\n", "included more than 8 deep" },
		{ "inc_dup.toml", "[suite]\ninclude = [\"inc_a.toml\", \"inc_a.toml\"]\n", "inc_dup.toml:2: key 'include': case 'a' of" },
		{ "inc_missing.toml", "[suite]\ninclude = [\"nope.toml\"]\n", "nope.toml: No such file or directory" },
		{ "inc_type.toml", "[suite]\ninclude = \"inc_a.toml\"\n", "inc_type.toml:2: key 'include': expected a list" },
	};
	for (size_t i = 0; i < sizeof(inc_bad) / sizeof(inc_bad[0]); i++) {
		const char *p = write_suite(inc_bad[i].file, inc_bad[i].text);
		CHECK(suite_load(p, &s, err, sizeof(err)) != 0);
		CHECK_MSG(strstr(err, inc_bad[i].want) != NULL, "%s: got \"%s\"", inc_bad[i].file, err);
	}
}

/* A description is kept whole, however long. */
/* The warm-up where a suite sets none is the mechanism's (workload: one build), else the harness's 1000. */
static void test_warmup_default(void)
{
	static const struct {
		const char *defaults, *case_key;
		int64_t want_workload, want_null;
	} rows[] = {
		{ "", "", 1, 1000 },
		{ "[defaults]\nwarmup = 5\n", "", 5, 5 },
		{ "", "warmup = 0\n", 0, 0 },
		{ "[defaults]\nwarmup = 5\n", "warmup = 2\n", 2, 2 },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char text[512];
		snprintf(text, sizeof(text), "%s[[case]]\nmechanism = \"workload\"\nvariant = \"compile\"\n%s"
			 "[[case]]\nmechanism = \"null\"\n%s", rows[i].defaults, rows[i].case_key, rows[i].case_key);
		const char *p = write_suite("warmup.toml", text);
		struct suite s;
		char err[1024] = "";
		int rc = suite_load(p, &s, err, sizeof(err));
		CHECK_MSG(rc == 0, "warmup row %zu: %s", i, err);
		if (rc)
			continue;
		CHECK_EQ_U64(s.n_cases, 2);
		if (s.n_cases == 2) {
			CHECK_MSG(s.cases[0].set.warmup == rows[i].want_workload, "row %zu: workload warm-up %lld, want %lld",
				  i, (long long)s.cases[0].set.warmup, (long long)rows[i].want_workload);
			CHECK_MSG(s.cases[1].set.warmup == rows[i].want_null, "row %zu: null warm-up %lld, want %lld", i,
				  (long long)s.cases[1].set.warmup, (long long)rows[i].want_null);
		}
		suite_free(&s);
	}
}

static void test_long_description(void)
{
	const char *p = write_suite("longdesc.toml", "[suite]\ndescription = \"" DESC_LONG "\"\n[[case]]\nmechanism = \"null\"\n");
	struct suite s;
	char err[1024] = "";
	int rc = suite_load(p, &s, err, sizeof(err));
	CHECK_MSG(rc == 0, "%s", err);
	if (rc == 0) {
		CHECK(s.description && strlen(s.description) == 600);
		suite_free(&s);
	}
}

/* What is not a suite file says what it is, and nothing blocks or spins. */
static void test_not_files(void)
{
	struct { const char *path, *expect; } cases[] = {
		{ dir, "is a directory" },
		{ "/dev/zero", "/dev/zero: is a character device, not a regular file" },
		{ NULL, "is a FIFO, not a regular file" },
		{ NULL, "Too many levels of symbolic links" },
	};
	char fifo[512], loop[512];
	snprintf(fifo, sizeof(fifo), "%s/fifo.toml", dir);
	snprintf(loop, sizeof(loop), "%s/loop.toml", dir);
	CHECK(mkfifo(fifo, 0600) == 0);
	CHECK(symlink(loop, loop) == 0);
	cases[2].path = fifo;
	cases[3].path = loop;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct suite s;
		char err[1024] = "";
		CHECK(suite_load(cases[i].path, &s, err, sizeof(err)) != 0);
		CHECK_MSG(strstr(err, cases[i].expect) != NULL, "%s: got \"%s\", want \"%s\"", cases[i].path, err,
			  cases[i].expect);
	}
}

static void test_references(void)
{
	/* reference data of our own: the suite must name ids that exist */
	write_suite("refs.csv", "id,source,experiment,metric,value,stddev,unit,cpu,cpu_ghz,os,notes\n"
			"t.syscall,000_x.txt,e,m,100,,cycles,cpu,2.0,os,\n");
	setenv("GAPBENCH_REFERENCE_DIR", dir, 1);
	const char *p = write_suite("ref_ok.toml", "[[case]]\nmechanism = \"syscall\"\nreference = \"t.syscall\"\n"
				    "ref_stat = \"p50\"\n");
	struct suite s;
	char err[1024] = "";
	int rc = suite_load(p, &s, err, sizeof(err));
	CHECK(rc == 0);
	if (rc == 0) {
		CHECK(strcmp(s.cases[0].set.reference, "t.syscall") == 0);
		CHECK(s.cases[0].set.ref_stat == REF_P50);
		suite_free(&s);
	} else {
		fprintf(stderr, "unexpected: %s\n", err);
	}
	p = write_suite("ref_bad.toml", "[[case]]\nmechanism = \"syscall\"\n\nreference = \"t.nope\"\n");
	CHECK(suite_load(p, &s, err, sizeof(err)) != 0);
	CHECK(strstr(err, "ref_bad.toml:4: key 'reference': no row 't.nope'") != NULL);
	unsetenv("GAPBENCH_REFERENCE_DIR");
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_references();
	test_good();
	test_bad();
	test_not_files();
	test_long_description();
	test_include();
	test_warmup_default();
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not remove %s\n", dir);
	CHECK_DONE();
}
