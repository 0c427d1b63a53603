#include "output.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
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
	int rc = 0, err = 0;
	errno = 0;
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || ferror(f)) {
		rc = -1;
		err = errno ? errno : EIO;   /* a write that failed earlier left its errno behind */
	}
	if (fclose(f) != 0 && rc == 0) {
		rc = -1;
		err = errno;
	}
	if (rc == 0 && rename(tmp_path, path) != 0) {
		rc = -1;
		err = errno;
	}
	if (rc != 0)
		errno = err;
	if (rc != 0) {
		int saved = errno;
		unlink(tmp_path);
		errno = saved;
	}
	return rc;
}

/* "PREFIX S" as one quoted CSV cell, quotes doubled. */
static void quoted_cell(FILE *f, const char *prefix, const char *s)
{
	fputc('"', f);
	fputs(prefix, f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

void csv_field(FILE *f, const char *s)
{
	if (strpbrk(s, ",\"\r\n"))
		quoted_cell(f, "", s);
	else
		fputs(s, f);
}

/* Optional sign, digits with at most one point, an optional exponent: what a spreadsheet reads as a number. */
static bool plain_number(const char *s)
{
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	bool digits = false, point = false;
	for (; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digits = true;
		else if (*p == '.' && !point)
			point = true;
		else
			break;
	}
	if (!digits)
		return false;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

bool csv_formula_like(const char *s)
{
	return s[0] && strchr("=+-@\t\r", s[0]) && !plain_number(s);
}

void csv_text(FILE *f, const char *s)
{
	if (csv_formula_like(s))
		quoted_cell(f, "'", s);
	else
		csv_field(f, s);
}

static const char *const summary_columns[] = {
	"case", "mechanism", "variant", "load", "status", "samples",
	"min_ns", "p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns", "mean_ns", "stddev_ns",
	"min_cycles", "p50_cycles", "ref_value", "ref_unit", "ref_ratio",
	"params", "warmup_discarded", "missed_periods", "overflow", "pmu", "elapsed_s",
	"reference", "ref_stat", "ref_ratio_time", "ref_here", "stand_in",
	"repeats", "rep_p50_median_ns", "rep_p50_lo_ns", "rep_p50_hi_ns", "placement",
};

int summary_column(const char *name)
{
	for (size_t i = 0; i < sizeof(summary_columns) / sizeof(summary_columns[0]); i++)
		if (strcmp(summary_columns[i], name) == 0)
			return (int)i;
	return -1;
}

static void u64_cell(FILE *f, bool have, uint64_t v)
{
	if (have)
		fprintf(f, "%" PRIu64, v);
}

void write_summary_row(FILE *f, const struct summary_row *r)
{
	const bool h = r->have_stats;
	csv_text(f, r->case_name); fputc(',', f);
	csv_text(f, r->mechanism); fputc(',', f);
	csv_text(f, r->variant); fputc(',', f);
	csv_text(f, r->load); fputc(',', f);
	csv_text(f, r->status); fputc(',', f);
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
	csv_text(f, r->ref_value); fputc(',', f);
	csv_text(f, r->ref_unit); fputc(',', f);
	csv_text(f, r->ref_ratio); fputc(',', f);
	csv_text(f, r->params); fputc(',', f);
	fprintf(f, "%" PRIu64 ",", r->warmup_discarded);
	fprintf(f, "%" PRIu64 ",", r->missed);
	u64_cell(f, h, r->ns.overflow); fputc(',', f);
	csv_text(f, r->pmu); fputc(',', f);
	fprintf(f, "%.3f,", r->elapsed_s);
	csv_text(f, r->reference); fputc(',', f);
	csv_text(f, r->ref_stat); fputc(',', f);
	csv_text(f, r->ref_ratio_time); fputc(',', f);
	csv_text(f, r->ref_here); fputc(',', f);
	csv_text(f, r->stand_in); fputc(',', f);
	fprintf(f, "%u,", r->repeats ? r->repeats : 1);
	bool reps = h && r->repeats > 1;
	u64_cell(f, reps, r->rep_p50_median); fputc(',', f);
	u64_cell(f, reps, r->rep_p50_lo); fputc(',', f);
	u64_cell(f, reps, r->rep_p50_hi); fputc(',', f);
	csv_text(f, r->placement[0] ? r->placement : "native"); fputc('\n', f);
}

void write_summary_header(FILE *f)
{
	for (size_t i = 0; i < sizeof(summary_columns) / sizeof(summary_columns[0]); i++)
		fprintf(f, "%s%s", i ? "," : "", summary_columns[i]);
	fputc('\n', f);
}

char *summary_row_text(const struct summary_row *r, size_t *len)
{
	char *mem = NULL;
	FILE *f = open_memstream(&mem, len);
	if (!f)
		return NULL;
	write_summary_row(f, r);
	if (fclose(f) != 0) {
		free(mem);
		return NULL;
	}
	return mem;
}

int write_summary_csv(const char *path, const struct summary_row *rows, size_t n)
{
	char tmp[4096];
	FILE *f = atomic_open(path, tmp, sizeof(tmp));
	if (!f)
		return -1;
	write_summary_header(f);
	for (size_t i = 0; i < n; i++)
		write_summary_row(f, &rows[i]);
	return atomic_commit(f, tmp, path);
}

int append_record(int fd, off_t *size, const char *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t w = write(fd, buf + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = ENOSPC;
			goto torn;
		}
		done += (size_t)w;
	}
	if (fsync(fd) != 0)
		goto torn;
	*size += (off_t)len;
	return 0;
torn:;
	int saved = errno;
	if (ftruncate(fd, *size) != 0) {
		/* nothing better to do: the caller reports the first error */
	}
	errno = saved;
	return -1;
}

int write_file_atomic(const char *path, const char *buf, size_t len)
{
	char tmp[4096];
	FILE *f = atomic_open(path, tmp, sizeof(tmp));
	if (!f)
		return -1;
	if (len && fwrite(buf, 1, len, f) != len) {
		int saved = errno ? errno : EIO;
		fclose(f);
		unlink(tmp);
		errno = saved;
		return -1;
	}
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
