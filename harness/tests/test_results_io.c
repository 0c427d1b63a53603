/*
 * The results folder's writers and readers: CSV-injection neutralising,
 * appends that never leave a torn record, CSV records read back for
 * --resume, an output failure written into the case's status, and the
 * --out paths that are bad input.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "outdir.h"
#include "output.h"
#include "reporter.h"
#include "resume.h"

static char *cell(const char *s)
{
	static char *mem;
	size_t len = 0;
	free(mem);
	mem = NULL;
	FILE *f = open_memstream(&mem, &len);
	csv_text(f, s);
	fclose(f);
	return mem;
}

static void test_formula_cells(void)
{
	/* OWASP: =, +, -, @, tab and carriage return open a formula; a quote goes before, the cell is quoted */
	CHECK(strcmp(cell("=cmd|' /C calc'!A0"), "\"'=cmd|' /C calc'!A0\"") == 0);
	CHECK(strcmp(cell("+1+2"), "\"'+1+2\"") == 0);
	CHECK(strcmp(cell("-2+3"), "\"'-2+3\"") == 0);
	CHECK(strcmp(cell("@SUM(A1)"), "\"'@SUM(A1)\"") == 0);
	CHECK(strcmp(cell("\tx"), "\"'\tx\"") == 0);
	CHECK(strcmp(cell("=HYPERLINK(\"a\",\"b\")"), "\"'=HYPERLINK(\"\"a\"\",\"\"b\"\")\"") == 0);
	CHECK(strcmp(cell("-inf"), "\"'-inf\"") == 0);
	/* numbers stay numbers */
	CHECK(strcmp(cell("-1"), "-1") == 0);
	CHECK(strcmp(cell("+2.5"), "+2.5") == 0);
	CHECK(strcmp(cell("-1.5e-3"), "-1.5e-3") == 0);
	CHECK(strcmp(cell("-.5"), "-.5") == 0);
	/* text that does not start a formula is as before: plain, or quoted for a comma */
	CHECK(strcmp(cell("ok"), "ok") == 0);
	CHECK(strcmp(cell("a=b"), "a=b") == 0);
	CHECK(strcmp(cell("fail: a, b"), "\"fail: a, b\"") == 0);
	CHECK(strcmp(cell(""), "") == 0);
	CHECK(!csv_formula_like("-1") && csv_formula_like("-1-1") && csv_formula_like("-") && !csv_formula_like("x"));

	/* in a summary row: every text cell, never a numeric one */
	struct summary_row r;
	memset(&r, 0, sizeof(r));
	snprintf(r.case_name, sizeof(r.case_name), "-case");
	snprintf(r.status, sizeof(r.status), "ok");
	snprintf(r.load, sizeof(r.load), "@load");
	snprintf(r.params, sizeof(r.params), "+p=1");
	snprintf(r.pmu, sizeof(r.pmu), "=cmd=unavailable");
	snprintf(r.ref_ratio, sizeof(r.ref_ratio), "-1");
	size_t len;
	char *text = summary_row_text(&r, &len);
	CHECK(text && strncmp(text, "\"'-case\",,,\"'@load\",ok,0,,", 26) == 0);
	CHECK(text && strstr(text, ",-1,\"'+p=1\",") && strstr(text, ",\"'=cmd=unavailable\","));
	CHECK(text && len == strlen(text) && text[len - 1] == '\n');

	/* and read back for --resume: the cells as written, the record's end past quoted line breaks */
	char cells[8][600];
	const char *rec = "\"'-case\",\"two\nlines\",\"say \"\"hi\"\"\",x\nnext,row\n";
	size_t n = csv_record_len(rec, strlen(rec));
	CHECK(n == strlen("\"'-case\",\"two\nlines\",\"say \"\"hi\"\"\",x\n"));
	CHECK(csv_split_record(rec, n, cells, 8) == 4);
	CHECK(strcmp(cells[0], "'-case") == 0 && strcmp(cells[1], "two\nlines") == 0);
	CHECK(strcmp(cells[2], "say \"hi\"") == 0 && strcmp(cells[3], "x") == 0);
	CHECK(csv_record_len("torn,\"no end\n", 13) == 0);
	free(text);
}

/* A file that may grow to limit bytes: appends past it fail (EFBIG) and must leave the file as it was. */
static void test_append_torn(const char *dir)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/rows.csv", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 0644);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	off_t size = 0;
	CHECK(append_record(fd, &size, "header\n", 7) == 0 && size == 7);
	struct rlimit old, lim = { .rlim_cur = 20, .rlim_max = 20 };
	getrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_IGN);
	lim.rlim_max = old.rlim_max;
	CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	CHECK(append_record(fd, &size, "row one\n", 8) == 0 && size == 15);
	errno = 0;
	CHECK(append_record(fd, &size, "row two is too long\n", 20) == -1 && errno == EFBIG);
	CHECK(size == 15);
	setrlimit(RLIMIT_FSIZE, &old);
	struct stat st;
	CHECK(fstat(fd, &st) == 0 && st.st_size == 15);   /* no torn "row " left behind */
	CHECK(append_record(fd, &size, "row three\n", 10) == 0 && size == 25);
	close(fd);
}

static void test_output_failed_status(void)
{
	struct summary_row row;
	memset(&row, 0, sizeof(row));
	snprintf(row.status, sizeof(row.status), "ok");
	struct case_record rec = { .status = CS_OK, .row = &row };
	case_output_failed(&rec, "hist/x.csv", ENOSPC);
	CHECK(strcmp(row.status, "fail: output: cannot write hist/x.csv: No space left on device") == 0);
	CHECK(rec.status == CS_FAIL && rec.output_failed && rec.disk_full);
	case_output_failed(&rec, "summary.csv", EROFS);   /* a second one is added */
	CHECK(strstr(row.status, "; output: cannot write summary.csv: Read-only file system") != NULL);

	snprintf(row.status, sizeof(row.status), "timeout");
	struct case_record to = { .status = CS_TIMEOUT, .row = &row };
	case_output_failed(&to, "cases.jsonl", EIO);
	CHECK(strncmp(row.status, "timeout; output: cannot write cases.jsonl: ", 43) == 0 && !to.disk_full);

	struct run_totals t;
	memset(&t, 0, sizeof(t));
	run_output_failed(&t, "meta.json", EDQUOT);
	CHECK(strncmp(t.output_error, "cannot write meta.json: ", 24) == 0);
	run_output_failed(&t, "junit.xml", EROFS);
	CHECK(strstr(t.output_error, "; cannot write junit.xml: Read-only file system") != NULL);
}

static void test_out_paths(const char *dir)
{
	char err[256];
	CHECK(outdir_check_path("", err, sizeof(err)) == -1 && strstr(err, "empty"));
	CHECK(outdir_check_path("/", err, sizeof(err)) == -1 && strstr(err, "root folder"));
	CHECK(outdir_check_path("//", err, sizeof(err)) == -1);
	CHECK(outdir_check_path("/tmp/..", err, sizeof(err)) == -1);
	CHECK(outdir_check_path("/no-such-folder-gapbench/../.", err, sizeof(err)) == -1);
	CHECK(outdir_check_path(dir, err, sizeof(err)) == 0);
	CHECK(outdir_check_path("results/x", err, sizeof(err)) == 0);

	/* the folder lock: a second taker in this process is a fresh open, so test the lock file and its pid */
	char out[512];
	snprintf(out, sizeof(out), "%s/out", dir);
	bool busy = true;
	int fd = outdir_lock(out, &busy, err, sizeof(err));
	CHECK(fd >= 0 && !busy);
	struct outdir_contents c;
	CHECK(outdir_inspect(out, &c, err, sizeof(err)) == 0 && c.n_entries == 0);   /* the lock file is not content */
	char sub[600];
	snprintf(sub, sizeof(sub), "%s/hist", out);
	CHECK(mkdir(sub, 0755) == 0);
	CHECK(outdir_inspect(out, &c, err, sizeof(err)) == 0 && c.n_entries == 0);   /* nor an empty hist/ */
	check_write_file(sub, "a.csv", "x\n");
	check_write_file(out, "notes.txt", "x\n");
	CHECK(outdir_inspect(out, &c, err, sizeof(err)) == 0 && c.n_entries == 2 && c.n_foreign == 1 && !c.results);
	check_write_file(out, "summary.csv", "x\n");
	check_write_file(out, "meta.json.tmp", "x\n");
	CHECK(outdir_inspect(out, &c, err, sizeof(err)) == 0 && c.results && c.n_foreign == 1);
	CHECK(outdir_clear(out, err, sizeof(err)) == 0);
	CHECK(outdir_inspect(out, &c, err, sizeof(err)) == 0 && c.n_entries == 1 && strcmp(c.names, "notes.txt") == 0);
	if (fd >= 0)
		close(fd);
}

int main(void)
{
	char dir[] = "/tmp/gapbench-test-results-io-XXXXXX";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_formula_cells();
	test_append_torn(dir);
	test_output_failed_status();
	test_out_paths(dir);
	CHECK(remove_tree(dir) == 0 && access(dir, F_OK) != 0);
	CHECK_DONE();
}
