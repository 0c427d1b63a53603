/* harness compare BASE_DIR NEW_DIR: per case, same, faster, slower or unknown. */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "compare.h"
#include "compare_reps.h"
#include "infile.h"
#include "csvread.h"

struct case_row {
	char name[160];
	char status[96];
};

struct run {
	const char *dir;
	struct case_row *rows;
	size_t n;
	int col_case, col_status, col_placement;
	char placement[128];   /* the first row's placement ("native" where the column is missing) */
};

static int on_summary(void *arg, char *const *f, int n, long rec)
{
	struct run *r = arg;
	if (rec == 1) {
		for (int i = 0; i < n; i++) {
			if (strcmp(f[i], "case") == 0)
				r->col_case = i;
			if (strcmp(f[i], "status") == 0)
				r->col_status = i;
			if (strcmp(f[i], "placement") == 0)
				r->col_placement = i;
		}
		return r->col_case < 0 || r->col_status < 0 ? 1 : 0;
	}
	if (r->col_case >= n || r->col_status >= n)
		return 1;
	struct case_row *rows = realloc(r->rows, (r->n + 1) * sizeof(*rows));
	if (!rows)
		return 1;
	r->rows = rows;
	snprintf(rows[r->n].name, sizeof(rows[r->n].name), "%s", f[r->col_case]);
	snprintf(rows[r->n].status, sizeof(rows[r->n].status), "%s", f[r->col_status]);
	if (r->n == 0 && r->col_placement >= 0 && r->col_placement < n && f[r->col_placement][0])
		snprintf(r->placement, sizeof(r->placement), "%s", f[r->col_placement]);
	r->n++;
	return 0;
}

static int load_run(struct run *r, const char *dir)
{
	memset(r, 0, sizeof(*r));
	r->dir = dir;
	r->col_case = r->col_status = r->col_placement = -1;
	snprintf(r->placement, sizeof(r->placement), "native");
	char path[4096], err[512];
	snprintf(path, sizeof(path), "%s/summary.csv", dir);
	struct stat st;
	if (stat(dir, &st) != 0) {
		fprintf(stderr, "harness compare: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "harness compare: %s: not a results folder (give the folder that holds summary.csv)\n", dir);
		return -1;
	}
	int rc = csv_read_file(path, on_summary, r, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "harness compare: %s\n", err);
	else if (rc > 0 || r->col_case < 0)   /* an empty file has no header at all */
		fprintf(stderr, "harness compare: %s: not a gapbench summary (no case/status columns)\n", path);
	return rc || r->col_case < 0 ? -1 : 0;
}

/* A histogram file as growing arrays. */
struct hist_file {
	uint64_t *lo, *hi, *count;
	size_t n, cap;
	uint64_t total;
};

/* A plain decimal count: no sign, no junk, no overflow. */
static int parse_u64(const char *s, uint64_t *out)
{
	if (*s < '0' || *s > '9')
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

static int on_hist(void *arg, char *const *f, int n, long rec)
{
	struct hist_file *h = arg;
	if (rec == 1)
		return n == 4 && strcmp(f[0], "lo_ns") == 0 ? 0 : 1;
	if (n != 4)
		return 1;
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 256;
		uint64_t *lo = realloc(h->lo, cap * sizeof(*lo));
		if (lo)
			h->lo = lo;
		uint64_t *hi = realloc(h->hi, cap * sizeof(*hi));
		if (hi)
			h->hi = hi;
		uint64_t *c = realloc(h->count, cap * sizeof(*c));
		if (c)
			h->count = c;
		if (!lo || !hi || !c)
			return 1;
		h->cap = cap;
	}
	uint64_t lo, hi, count, cum;
	if (parse_u64(f[0], &lo) || parse_u64(f[1], &hi) || parse_u64(f[2], &count) || parse_u64(f[3], &cum))
		return 1;
	/* buckets ascend and do not overlap; the cumulative column adds up, without wrapping around */
	if (lo > hi || (h->n && lo <= h->hi[h->n - 1]) || count > UINT64_MAX - h->total || cum != h->total + count)
		return 1;
	h->lo[h->n] = lo;
	h->hi[h->n] = hi;
	h->count[h->n] = count;
	h->total += count;
	h->n++;
	return 0;
}

static void hist_file_free(struct hist_file *h)
{
	free(h->lo);
	free(h->hi);
	free(h->count);
	memset(h, 0, sizeof(*h));
}

static int load_hist(const char *dir, const char *name, struct hist_file *h, struct dist *d)
{
	memset(h, 0, sizeof(*h));
	char path[4096], err[512];
	snprintf(path, sizeof(path), "%s/hist/%s.csv", dir, name);
	if (csv_read_file(path, on_hist, h, err, sizeof(err)) != 0 || h->n == 0) {
		hist_file_free(h);
		return -1;
	}
	*d = (struct dist){ .lo = h->lo, .hi = h->hi, .count = h->count, .n = h->n, .total = h->total };
	return 0;
}

/*
 * The repetitions of a case, from the run's meta.json (each repetition's
 * p50/p90/p99, repeat > 1). 0 with out->n set (0: none recorded), -1 when
 * meta.json is unreadable.
 */
static int load_reps(const char *dir, const char *name, struct rep_series *out)
{
	out->n = 0;
	char path[4096], err[512];
	snprintf(path, sizeof(path), "%s/meta.json", dir);
	char *text;
	size_t len;
	if (infile_read(path, INFILE_MAX_CSV_BYTES, &text, &len, err, sizeof(err)) != 0)
		return -1;
	json_error_t jerr;
	json_t *doc = json_loadb(text, len, 0, &jerr);
	free(text);
	if (!doc)
		return -1;
	json_t *cases = json_object_get(doc, "cases"), *c;
	size_t i;
	json_array_foreach(cases, i, c) {
		if (!json_is_string(json_object_get(c, "case")) || strcmp(json_string_value(json_object_get(c, "case")), name))
			continue;
		json_t *reps = json_object_get(c, "repetitions"), *rep;
		size_t k;
		json_array_foreach(reps, k, rep) {
			if (out->n >= COMPARE_REPS_MAX)
				break;
			static const char *const keys[COMPARE_NQ] = { "p50_ns", "p90_ns", "p99_ns" };
			for (int q = 0; q < COMPARE_NQ; q++)
				out->q[q][out->n] = (uint64_t)json_integer_value(json_object_get(rep, keys[q]));
			out->n++;
		}
		break;
	}
	json_decref(doc);
	return 0;
}

/* Whether name matches one of the comma-separated globs in list. */
static bool excluded(const char *list, const char *name)
{
	if (!list)
		return false;
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *save = NULL, *g = strtok_r(buf, ",", &save); g; g = strtok_r(NULL, ",", &save))
		if (fnmatch(g, name, 0) == 0)
			return true;
	return false;
}

static const struct case_row *find(const struct run *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->rows[i].name, name) == 0)
			return &r->rows[i];
	return NULL;
}

/*
 * Runs of different placements (native and in a VM): no verdicts, the
 * VM/native ratio per case, as a table and a plot (plots/vm_ratio.py, exec'd).
 */
static int compare_placements(const struct run *base, const struct run *next)
{
	bool swap = strcmp(next->placement, "native") == 0;
	const char *native = swap ? next->dir : base->dir, *vm = swap ? base->dir : next->dir;
	char script[4096], svg[4096];
	snprintf(script, sizeof(script), "%s/plots/vm_ratio.py", GAPBENCH_SOURCE_ROOT);
	snprintf(svg, sizeof(svg), "%s/plots/vm-ratio.svg", vm);
	printf("placements differ (%s: %s, %s: %s): per case the ratio, no verdicts\n", base->dir, base->placement,
	       next->dir, next->placement);
	fflush(NULL);
	char *args[] = { "python3", script, (char *)native, (char *)vm, "--svg", svg, NULL };
	execvp("python3", args);
	fprintf(stderr, "harness compare: cannot run python3 %s: %s\n", script, strerror(errno));
	return 2;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: harness compare BASE_DIR NEW_DIR [--effect F] [--alpha A] [--rep-alpha A] [--min-samples N]\n"
		"                       [--quantiles LIST] [--exclude GLOBS] [--strict]\n"
		"\n"
		"Decides for every case of NEW_DIR whether it is the same as in BASE_DIR, faster,\n"
		"slower, noisy, or unknown (missing, not ok, or too few samples).\n"
		"\n"
		"With repetitions on both sides (repeat >= 2): a quantile (p50, p90, p99) has moved\n"
		"when the repetitions' values differ by a Mann-Whitney rank test (exact; Bonferroni\n"
		"over the quantiles tested, family-wise level --rep-alpha) and the median of the\n"
		"repetitions moved by at least F; with no such move but repetitions spread wider\n"
		"than F, the verdict is noisy. This is the verdict a noisy machine can trust: it\n"
		"rests on the variation between runs.\n"
		"\n"
		"Otherwise, labelled within-run: from the histograms, a quantile has moved when the\n"
		"share of new samples above the base's quantile differs significantly\n"
		"(two-proportion z-test, Bonferroni, level A) and the quantile moved by at least F.\n"
		"One run is one sample of the machine's state: this test cannot see the machine's\n"
		"drift between runs, so on a shared machine it cries wolf. The defaults suit a\n"
		"noisy 2-CPU VM; on dedicated hardware try --effect 0.05 --quantiles 50,90,99.\n"
		"\n"
		"  --effect F        relative quantile shift that matters (default 0.25)\n"
		"  --alpha A         significance level of the within-run test (default 0.001)\n"
		"  --rep-alpha A     significance level of the test over repetitions (default 0.05)\n"
		"  --min-samples N   fewer samples in either run: unknown (default 1000)\n"
		"  --quantiles LIST  which of 50,90,99 to test (default 50,90)\n"
		"  --exclude GLOBS   leave out the cases matching any of these comma-separated globs\n"
		"  --strict          unknown cases fail the comparison too\n"
		"\n"
		"Runs of different placements (the summary.csv column placement: native, in vm\n"
		"(kvm), in vm (tcg: ...), as harness run --vm writes it) get no verdicts: per case\n"
		"the VM/native ratio of p50, p99 and max, as a table and a plot (VM_DIR/plots/\n"
		"vm-ratio.svg; plots/vm_ratio.py). Under tcg the ratios are labelled emulated,\n"
		"not a latency, and set beside no paper. Exit status 0, 2 for bad input.\n"
		"\n"
		"Exit status: 0 nothing slower or broken, 1 some case slower, or ok before and\n"
		"failed now (broken), or unknown with --strict; 2 bad input (a run with no cases).\n");
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	*out = strtod(s, &end);
	/* "nan" and "inf" parse, and every comparison with NaN is false: refuse them first */
	return errno || end == s || *end || !isfinite(*out) || *out < lo || *out > hi ? -1 : 0;
}

/* "50,90" -> the bits of those entries of compare_quantiles. */
static int parse_quantiles(const char *s, unsigned *mask)
{
	*mask = 0;
	char buf[64];
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		double q;
		int k;
		if (parse_double(tok, 1, 100, &q))
			return -1;
		for (k = 0; k < COMPARE_NQ && compare_quantiles[k] != q; k++)
			;
		if (k == COMPARE_NQ)
			return -1;
		*mask |= 1u << k;
	}
	return *mask ? 0 : -1;
}

int cmd_compare(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "effect", required_argument, NULL, 'e' }, { "alpha", required_argument, NULL, 'a' },
		{ "rep-alpha", required_argument, NULL, 'A' },
		{ "min-samples", required_argument, NULL, 'm' }, { "strict", no_argument, NULL, 's' },
		{ "quantiles", required_argument, NULL, 'q' }, { "exclude", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	struct compare_opts o = COMPARE_DEFAULTS;
	double rep_alpha = 0.05;
	bool strict = false;
	const char *exclude = NULL;
	double v;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "e:a:m:q:x:sh", longopts, NULL)) != -1) {
		switch (c) {
		case 'x': exclude = optarg; break;
		case 'q':
			if (parse_quantiles(optarg, &o.quantile_mask)) {
				fprintf(stderr, "harness compare: --quantiles wants a list of 50, 90, 99 (e.g. 50,90)\n");
				return 2;
			}
			break;
		case 'e':
			if (parse_double(optarg, 0.0, 10.0, &o.min_effect)) {
				fprintf(stderr, "harness compare: --effect wants a number in [0, 10]\n");
				return 2;
			}
			break;
		case 'A':
			if (parse_double(optarg, 1e-6, 0.5, &rep_alpha)) {
				fprintf(stderr, "harness compare: --rep-alpha wants a number in (0, 0.5]\n");
				return 2;
			}
			break;
		case 'a':
			if (parse_double(optarg, 1e-12, 0.5, &o.alpha)) {
				fprintf(stderr, "harness compare: --alpha wants a number in (0, 0.5]\n");
				return 2;
			}
			break;
		case 'm':
			if (parse_double(optarg, 1, 1e12, &v)) {
				fprintf(stderr, "harness compare: --min-samples wants a positive count\n");
				return 2;
			}
			o.min_samples = (uint64_t)v;
			break;
		case 's': strict = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return 2;
	}
	struct run base, next;
	if (load_run(&base, argv[optind]))
		return 2;
	if (load_run(&next, argv[optind + 1])) {
		free(base.rows);
		return 2;
	}
	const struct run *empty = base.n == 0 ? &base : next.n == 0 ? &next : NULL;
	if (empty) {
		fprintf(stderr, "harness compare: %s/summary.csv has no cases\n", empty->dir);
		free(base.rows);
		free(next.rows);
		return 2;
	}
	if (strcmp(base.placement, next.placement) != 0) {
		int prc = compare_placements(&base, &next);
		free(base.rows);
		free(next.rows);
		return prc;
	}
	printf("%-44s %-8s %12s %12s %8s %8s %9s %6s\n", "case", "verdict", "p50 base", "p50 new", "p50", "p99",
	       "min p", "KS D");
	unsigned counts[6] = { 0 };
	struct rep_series *rb = malloc(sizeof(*rb)), *rn = malloc(sizeof(*rn));
	if (!rb || !rn) {
		free(rb);
		free(rn);
		fprintf(stderr, "harness compare: out of memory\n");
		return 2;
	}
	for (size_t i = 0; i < next.n; i++) {
		const struct case_row *nr = &next.rows[i], *br = find(&base, nr->name);
		if (excluded(exclude, nr->name))
			continue;
		struct compare_result r;
		memset(&r, 0, sizeof(r));
		r.verdict = VERDICT_UNKNOWN;
		struct hist_file hb, hn;
		struct dist db, dn;
		if (!br)
			snprintf(r.why, sizeof(r.why), "not in the base run");
		else if (strcmp(br->status, "ok") == 0 && strcmp(nr->status, "ok") != 0) {
			r.verdict = VERDICT_BROKEN;
			snprintf(r.why, sizeof(r.why), "ok in the base run, '%.60s' now", nr->status);
		} else if (strcmp(br->status, "ok") || strcmp(nr->status, "ok"))
			snprintf(r.why, sizeof(r.why), "status base '%.40s', new '%.40s'", br->status, nr->status);
		else if (load_hist(base.dir, nr->name, &hb, &db))
			snprintf(r.why, sizeof(r.why), "the base histogram is missing or malformed");
		else if (load_hist(next.dir, nr->name, &hn, &dn)) {
			hist_file_free(&hb);
			snprintf(r.why, sizeof(r.why), "the new histogram is missing or malformed");
		} else {
			hist_file_free(&hb);
			hist_file_free(&hn);
			if (load_reps(base.dir, nr->name, rb) == 0 && load_reps(next.dir, nr->name, rn) == 0 &&
			    rb->n >= 2 && rn->n >= 2) {
				compare_reps(rb, rn, &o, rep_alpha, &r);
			} else {
				/* one repetition on a side: the test inside the runs, which cannot see between runs */
				load_hist(base.dir, nr->name, &hb, &db);
				load_hist(next.dir, nr->name, &hn, &dn);
				compare_dists(&db, &dn, &o, &r);
				hist_file_free(&hb);
				hist_file_free(&hn);
				char why[sizeof(r.why)];
				snprintf(why, sizeof(why), "within-run%s%.140s", r.why[0] ? ": " : "", r.why);
				memcpy(r.why, why, sizeof(why));
			}
		}
		counts[r.verdict]++;
		if ((r.verdict == VERDICT_UNKNOWN || r.verdict == VERDICT_BROKEN) && !r.base_q[0]) {
			printf("%-44s %-8s %s\n", nr->name, verdict_name(r.verdict), r.why);
			continue;
		}
		double pmin = r.p_value[0];
		for (int k = 1; k < COMPARE_NQ; k++)
			if (r.p_value[k] < pmin)
				pmin = r.p_value[k];
		char ks[16] = "     -";
		if (!isnan(r.ks_d))
			snprintf(ks, sizeof(ks), "%6.3f", r.ks_d);
		printf("%-44s %-8s %9llu ns %9llu ns %+7.1f%% %+7.1f%% %9.2g %s%s%s\n", nr->name,
		       verdict_name(r.verdict), (unsigned long long)r.base_q[0], (unsigned long long)r.new_q[0],
		       100 * r.shift[0], 100 * r.shift[2], pmin, ks, r.why[0] ? "  " : "", r.why);
	}
	/* cases that vanished: listed, unknown (the suite may have changed on purpose) */
	for (size_t i = 0; i < base.n; i++)
		if (!find(&next, base.rows[i].name) && !excluded(exclude, base.rows[i].name)) {
			printf("%-44s %-8s missing from the new run\n", base.rows[i].name, verdict_name(VERDICT_UNKNOWN));
			counts[VERDICT_UNKNOWN]++;
		}
	free(rb);
	free(rn);
	printf("%u same, %u faster, %u slower, %u unknown", counts[VERDICT_SAME], counts[VERDICT_FASTER],
	       counts[VERDICT_SLOWER], counts[VERDICT_UNKNOWN]);
	if (counts[VERDICT_NOISY])
		printf(", %u noisy (repetitions spread wider than the effect)", counts[VERDICT_NOISY]);
	if (counts[VERDICT_BROKEN])
		printf(", %u broken (ok before, not now)", counts[VERDICT_BROKEN]);
	printf("\n");
	free(base.rows);
	free(next.rows);
	return counts[VERDICT_SLOWER] || counts[VERDICT_BROKEN] || (strict && counts[VERDICT_UNKNOWN]) ? 1 : 0;
}
