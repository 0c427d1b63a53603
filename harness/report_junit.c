/*
 * The JUnit XML reporter (--junit FILE), for CI systems that show test
 * results: one <testcase> per case, classname = its mechanism, name = the
 * case, time = its elapsed seconds; a failed, timed-out or killed case holds
 * a <failure> with its status text, a skipped one a <skipped message=...>.
 * The file is written (atomically) at the start, so that a path that cannot
 * take it fails before any case runs, and at the end, interrupted or not:
 * never per case, which would make each case cost as much as all before it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsontext.h"
#include "reporter.h"

struct junit_case {
	char classname[64];
	char name[160];
	enum case_status status;
	char text[600];   /* the status text: "fail: why", "timeout", "signal: 9", "skip: why" */
	double elapsed_s;
};

struct junit {
	struct junit_case *cases;
	size_t n, cap;
};

/*
 * s as XML character data or attribute value: markup characters escaped, bytes
 * that are not UTF-8 made valid (json_text's rule: '?'), control characters XML
 * 1.0 forbids (and U+FFFE, U+FFFF) as '?', and tab and line breaks as references so attributes keep them.
 */
static void xml_text(FILE *f, const char *s)
{
	json_t *clean = json_text(s);
	const char *p = clean ? json_string_value(clean) : "?";
	for (; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == 0xef && (unsigned char)p[1] == 0xbf && ((unsigned char)p[2] & 0xfe) == 0xbe) {
			fputc('?', f);   /* U+FFFE, U+FFFF: not XML characters */
			p += 2;
			continue;
		}
		switch (c) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		case '\t': case '\n': case '\r': fprintf(f, "&#%d;", c); break;
		default: fputc(c < 0x20 || c == 0x7f ? '?' : c, f); break;
		}
	}
	json_decref(clean);
}

static const char *failure_type(enum case_status st)
{
	switch (st) {
	case CS_TIMEOUT: return "timeout";
	case CS_SIGNAL: return "signal";
	default: return "fail";
	}
}

static int junit_write(const char *path, const char *suite_name, const struct junit *j)
{
	unsigned failures = 0, skipped = 0;
	double total_s = 0;
	for (size_t i = 0; i < j->n; i++) {
		if (j->cases[i].status == CS_SKIP)
			skipped++;
		else if (j->cases[i].status != CS_OK)
			failures++;
		total_s += j->cases[i].elapsed_s;
	}
	char tmp[4096];
	FILE *f = atomic_open(path, tmp, sizeof(tmp));
	if (!f)
		return -1;
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fprintf(f, "<testsuites name=\"gapbench\" tests=\"%zu\" failures=\"%u\" errors=\"0\" skipped=\"%u\" "
		"time=\"%.3f\">\n", j->n, failures, skipped, total_s);
	fputs("  <testsuite name=\"", f);
	xml_text(f, suite_name);
	fprintf(f, "\" tests=\"%zu\" failures=\"%u\" errors=\"0\" skipped=\"%u\" time=\"%.3f\">\n", j->n, failures,
		skipped, total_s);
	for (size_t i = 0; i < j->n; i++) {
		const struct junit_case *c = &j->cases[i];
		fputs("    <testcase classname=\"", f);
		xml_text(f, c->classname);
		fputs("\" name=\"", f);
		xml_text(f, c->name);
		fprintf(f, "\" time=\"%.3f\"", c->elapsed_s);
		if (c->status == CS_OK) {
			fputs("/>\n", f);
			continue;
		}
		if (c->status == CS_SKIP) {
			fputs(">\n      <skipped message=\"", f);
			xml_text(f, c->text);
			fputs("\"/>\n", f);
		} else {
			fprintf(f, ">\n      <failure type=\"%s\" message=\"", failure_type(c->status));
			xml_text(f, c->text);
			fputs("\">", f);
			xml_text(f, c->text);
			fputs("</failure>\n", f);
		}
		fputs("    </testcase>\n", f);
	}
	fputs("  </testsuite>\n</testsuites>\n", f);
	return atomic_commit(f, tmp, path);
}


static int junit_run_start(struct reporter *rep, const struct run_info *run)
{
	struct junit *j = rep->priv;
	j->cap = run->suite->n_cases;
	j->cases = calloc(j->cap ? j->cap : 1, sizeof(*j->cases));
	if (!j->cases) {
		fprintf(stderr, "harness: out of memory\n");
		return -1;
	}
	if (junit_write(rep->path, run->suite->name, j) != 0) {
		fprintf(stderr, "harness: cannot write %s: %s\n", rep->path, strerror(errno));
		return -1;
	}
	return 0;
}

static int junit_case_done(struct reporter *rep, const struct run_info *run, struct case_record *rec)
{
	(void)run;
	struct junit *j = rep->priv;
	if (j->n < j->cap) {
		struct junit_case *c = &j->cases[j->n++];
		snprintf(c->classname, sizeof(c->classname), "%s", rec->row->mechanism);
		snprintf(c->name, sizeof(c->name), "%s", rec->row->case_name);
		snprintf(c->text, sizeof(c->text), "%s", rec->row->status);
		c->status = rec->status;
		c->elapsed_s = rec->row->elapsed_s;
	}
	return 0;
}

static int junit_run_end(struct reporter *rep, const struct run_info *run, struct run_totals *t)
{
	if (junit_write(rep->path, run->suite->name, rep->priv) != 0) {
		run_output_failed(t, rep->path, errno);
		return -1;
	}
	return 0;
}

static void junit_release(struct reporter *rep)
{
	struct junit *j = rep->priv;
	free(j->cases);
}

const struct reporter_ops reporter_junit = {
	.name = "junit",
	.writes_files = true,
	.priv_size = sizeof(struct junit),
	.run_start = junit_run_start,
	.case_done = junit_case_done,
	.run_end = junit_run_end,
	.release = junit_release,
};
