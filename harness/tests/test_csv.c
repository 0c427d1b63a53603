/* CSV writing: quoting, summary columns, histogram files, atomic replacement. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "output.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_quoting(void)
{
	char *mem = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&mem, &len);
	csv_field(f, "plain");
	fputc('|', f);
	csv_field(f, "a,b");
	fputc('|', f);
	csv_field(f, "say \"hi\"");
	fputc('|', f);
	csv_field(f, "two\nlines");
	fputc('|', f);
	csv_field(f, "");
	fclose(f);
	CHECK(strcmp(mem, "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"|") == 0);
	free(mem);
}

static void test_files(void)
{
	char dir[] = "/tmp/gapbench-test-csv-XXXXXX";
	if (!mkdtemp(dir)) {
		check_failures++;
		return;
	}
	char path[256];
	snprintf(path, sizeof(path), "%s/summary.csv", dir);
	struct summary_row rows[2];
	memset(rows, 0, sizeof(rows));
	snprintf(rows[0].case_name, sizeof(rows[0].case_name), "syscall-getppid");
	snprintf(rows[0].status, sizeof(rows[0].status), "ok");
	snprintf(rows[0].params, sizeof(rows[0].params), "a=1 b=2");
	rows[0].have_stats = true;
	rows[0].samples = 10;
	rows[0].ns.min = 5;
	rows[0].ns.p50 = 7;
	rows[0].ns.max = 99;
	rows[0].ns.mean = 8.25;
	rows[0].p50_cycles = 17;
	snprintf(rows[1].case_name, sizeof(rows[1].case_name), "pipe");
	snprintf(rows[1].status, sizeof(rows[1].status), "skip: needs two CPUs, here: 1");
	CHECK(write_summary_csv(path, rows, 2) == 0);
	const char *text = slurp(path);
	CHECK(text != NULL);
	if (text) {
		/* the columns DESIGN.md requires, in its order, then ours */
		CHECK(strncmp(text, "case,mechanism,variant,load,status,samples,min_ns,p50_ns,p90_ns,p99_ns,p999_ns,"
				    "max_ns,mean_ns,stddev_ns,min_cycles,p50_cycles,ref_value,ref_unit,ref_ratio,", 148) == 0);
		CHECK(strstr(text, "\nsyscall-getppid,,,,ok,10,5,7,0,0,0,99,8.2,0.0,0,17,,,,a=1 b=2,") != NULL);
		/* a skipped row has empty statistics, not zeros */
		CHECK(strstr(text, "\npipe,,,,\"skip: needs two CPUs, here: 1\",0,,,,,,,,,,,,,,,0,0,,,") != NULL);
	}
	snprintf(path, sizeof(path), "%s/summary.csv.tmp", dir);
	CHECK(access(path, F_OK) != 0);   /* the temporary file was renamed away */

	struct hist h;
	CHECK(hist_init(&h, 20) == 0);
	hist_record(&h, 3);
	hist_record(&h, 3);
	hist_record(&h, 1000);
	snprintf(path, sizeof(path), "%s/h.csv", dir);
	CHECK(write_hist_csv(path, &h) == 0);
	text = slurp(path);
	CHECK(text && strcmp(text, "lo_ns,hi_ns,count,cumulative\n3,3,2,2\n1000,1003,1,3\n") == 0);
	hist_free(&h);

	/* writing into a folder that does not exist fails cleanly */
	CHECK(write_hist_csv("/nonexistent-dir/h.csv", &h) != 0);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
}

int main(void)
{
	test_quoting();
	test_files();
	CHECK_DONE();
}
