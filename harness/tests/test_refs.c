/* Reference data: CSV parsing, errors, and the cycles/time comparison maths. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "refs.h"

static char dir[] = "/tmp/gapbench-test-refs-XXXXXX";

#define HEADER "id,source,experiment,metric,value,stddev,unit,cpu,cpu_ghz,os,notes\n"

static void write_file(const char *name, const char *text)
{
	check_write_file(dir, name, text);
}

static void clear(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -f '%s'/*.csv", dir);
	if (system(cmd) != 0)
		check_failures++;
}

static void expect_error(const char *text, const char *want)
{
	clear();
	write_file("x.csv", text);
	struct refs r;
	char err[512] = "";
	CHECK(refs_load(dir, &r, err, sizeof(err)) != 0);
	if (!strstr(err, want)) {
		fprintf(stderr, "got \"%s\", want \"%s\"\n", err, want);
		check_failures++;
	}
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	write_file("a.csv", HEADER
		   "uls.signal_self,001_x.txt Table,signals,\"delivery, current process\",6000,,cycles,Pentium 4,2.4,Linux 2.6,\n"
		   "cos.pipe,002_y.txt Table I,pipe,RPC,1.68,0.68,us,Core 2,,Linux,\"mean (stddev)\"\n");
	write_file("b.csv", HEADER "k.count,004_z.txt,compile,runs,3,,count,,,,\n");
	struct refs r;
	char err[512] = "";
	CHECK(refs_load(dir, &r, err, sizeof(err)) == 0);
	CHECK_EQ_U64(r.n, 3);
	const struct ref_row *self = refs_find(&r, "uls.signal_self");
	const struct ref_row *pipe = refs_find(&r, "cos.pipe");
	CHECK(self && pipe && refs_find(&r, "k.count") && !refs_find(&r, "nope"));
	if (self && pipe) {
		CHECK(strcmp(self->unit, "cycles") == 0);
		CHECK_NEAR(self->value, 6000, 1e-9);
		CHECK_NEAR(self->cpu_ghz, 2.4, 1e-12);
		double ratio, ratio_time;
		/* 3000 cycles measured vs 6000 in the paper: half the cycles; 1000 ns vs 2500 ns: 0.4 of the time */
		CHECK(refs_compare(self, 1000.0, 3000.0, &ratio, &ratio_time));
		CHECK_NEAR(ratio, 0.5, 1e-12);
		CHECK_NEAR(ratio_time, 0.4, 1e-12);
		/* 3.36 us measured vs 1.68 us */
		CHECK(refs_compare(pipe, 3360.0, 8400.0, &ratio, &ratio_time));
		CHECK_NEAR(ratio, 2.0, 1e-12);
		CHECK_NEAR(ratio_time, 2.0, 1e-12);
		CHECK(!refs_compare(refs_find(&r, "k.count"), 1.0, 1.0, &ratio, &ratio_time));
	}
	refs_free(&r);

	expect_error("id,source\n", "x.csv:1: 2 fields, expected 11");
	expect_error("id,source,experiment,metric,value,stddev,unit,cpu,cpu_mhz,os,notes\n", "x.csv:1: column 9 is 'cpu_mhz'");
	expect_error(HEADER "a,s,e,m,many,,cycles,c,2,o,n\n", "x.csv:2: value or cpu_ghz is not a finite number");
	expect_error(HEADER "a,s,e,m,1,,cycles,c,2,o,n\na,s,e,m,2,,cycles,c,2,o,n\n", "x.csv:3: id 'a' defined twice");
	expect_error(HEADER "a,s,e,m,1,,cycles\n", "x.csv:2: 7 fields, expected 11");
	expect_error(HEADER ",s,e,m,1,,cycles,c,2,o,n\n", "x.csv:2: id empty");
	/* a paper's number is finite */
	expect_error(HEADER "x.nan,001_x.txt,e,m,nan,,us,,,,\n", "x.csv:2: value or cpu_ghz is not a finite number");
	expect_error(HEADER "x.inf,001_x.txt,e,m,inf,,us,,,,\n", "x.csv:2: value or cpu_ghz is not a finite number");
	expect_error(HEADER "x.ghz,001_x.txt,e,m,1,,us,,-inf,,\n", "x.csv:2: value or cpu_ghz is not a finite number");
	CHECK(refs_load("/nonexistent-gapbench", &r, err, sizeof(err)) != 0);

	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
	CHECK_DONE();
}
