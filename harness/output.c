#include "output.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

FILE *atomic_open(const char *path, char *tmp_path, size_t tmp_len)
{
	if ((size_t)snprintf(tmp_path, tmp_len, "%s.tmp", path) >= tmp_len) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	return fopen(tmp_path, "w");
}

int atomic_commit(FILE *f, const char *tmp_path, const char *path)
{
	int rc = 0;
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || ferror(f))
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	if (rc == 0 && rename(tmp_path, path) != 0)
		rc = -1;
	if (rc != 0) {
		int saved = errno;
		unlink(tmp_path);
		errno = saved;
	}
	return rc;
}

void csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static const char *const summary_columns[] = {
	"case", "mechanism", "variant", "load", "status", "samples",
	"min_ns", "p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns", "mean_ns", "stddev_ns",
	"min_cycles", "p50_cycles", "ref_value", "ref_unit", "ref_ratio",
	"params", "warmup_discarded", "missed_periods", "overflow", "pmu", "elapsed_s",
	"reference", "ref_stat", "ref_ratio_time", "ref_here", "stand_in",
};

static void u64_cell(FILE *f, bool have, uint64_t v)
{
	if (have)
		fprintf(f, "%" PRIu64, v);
}

static void write_row(FILE *f, const struct summary_row *r)
{
	const bool h = r->have_stats;
	csv_field(f, r->case_name); fputc(',', f);
	csv_field(f, r->mechanism); fputc(',', f);
	csv_field(f, r->variant); fputc(',', f);
	csv_field(f, r->load); fputc(',', f);
	csv_field(f, r->status); fputc(',', f);
	fprintf(f, "%" PRIu64 ",", r->samples);
	u64_cell(f, h, r->ns.min); fputc(',', f);
	u64_cell(f, h, r->ns.p50); fputc(',', f);
	u64_cell(f, h, r->ns.p90); fputc(',', f);
	u64_cell(f, h, r->ns.p99); fputc(',', f);
	u64_cell(f, h, r->ns.p999); fputc(',', f);
	u64_cell(f, h, r->ns.max); fputc(',', f);
	if (h)
		fprintf(f, "%.1f,%.1f,", r->ns.mean, r->ns.stddev);
	else
		fputs(",,", f);
	u64_cell(f, h, r->min_cycles); fputc(',', f);
	u64_cell(f, h, r->p50_cycles); fputc(',', f);
	csv_field(f, r->ref_value); fputc(',', f);
	csv_field(f, r->ref_unit); fputc(',', f);
	csv_field(f, r->ref_ratio); fputc(',', f);
	csv_field(f, r->params); fputc(',', f);
	fprintf(f, "%" PRIu64 ",", r->warmup_discarded);
	fprintf(f, "%" PRIu64 ",", r->missed);
	u64_cell(f, h, r->ns.overflow); fputc(',', f);
	csv_field(f, r->pmu); fputc(',', f);
	fprintf(f, "%.3f,", r->elapsed_s);
	csv_field(f, r->reference); fputc(',', f);
	csv_field(f, r->ref_stat); fputc(',', f);
	csv_field(f, r->ref_ratio_time); fputc(',', f);
	csv_field(f, r->ref_here); fputc(',', f);
	csv_field(f, r->stand_in); fputc('\n', f);
}

int write_summary_csv(const char *path, const struct summary_row *rows, size_t n)
{
	char tmp[4096];
	FILE *f = atomic_open(path, tmp, sizeof(tmp));
	if (!f)
		return -1;
	for (size_t i = 0; i < sizeof(summary_columns) / sizeof(summary_columns[0]); i++)
		fprintf(f, "%s%s", i ? "," : "", summary_columns[i]);
	fputc('\n', f);
	for (size_t i = 0; i < n; i++)
		write_row(f, &rows[i]);
	return atomic_commit(f, tmp, path);
}

static int hist_line(void *arg, uint64_t lo, uint64_t hi, uint64_t count, uint64_t cumulative)
{
	fprintf(arg, "%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n", lo, hi, count, cumulative);
	return 0;
}

int write_hist_csv(const char *path, const struct hist *h)
{
	char tmp[4096];
	FILE *f = atomic_open(path, tmp, sizeof(tmp));
	if (!f)
		return -1;
	fputs("lo_ns,hi_ns,count,cumulative\n", f);
	hist_foreach(h, hist_line, f);
	return atomic_commit(f, tmp, path);
}

int write_raw_csv(const char *path, const struct samples *s)
{
	char tmp[4096];
	FILE *f = atomic_open(path, tmp, sizeof(tmp));
	if (!f)
		return -1;
	fprintf(f, "%s\n", s->unit == SAMPLE_CYCLES ? "cycles" : "ns");
	for (uint64_t i = 0; i < s->count; i++)
		fprintf(f, "%" PRIu64 "\n", s->v[i]);
	return atomic_commit(f, tmp, path);
}

void local_timestamp(char *buf, size_t len, bool iso)
{
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	if (iso)
		strftime(buf, len, "%Y-%m-%dT%H:%M:%S%z", &tm);
	else
		strftime(buf, len, "%Y%m%d-%H%M%S", &tm);
}

int mkdir_p(const char *path)
{
	char buf[4096];
	if ((size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0755) != 0 && errno != EEXIST)
		return -1;
	return 0;
}
