/* The summary.csv reporter: one row per case, the whole file rewritten atomically after every case. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reporter.h"

struct summary_csv {
	struct summary_row *rows;
	size_t n, cap;
};

static int summary_save(const struct run_info *run, const struct summary_csv *sc)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/summary.csv", run->out);
	if (write_summary_csv(path, sc->rows, sc->n) != 0) {
		fprintf(stderr, "harness: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int summary_run_start(struct reporter *rep, const struct run_info *run)
{
	struct summary_csv *sc = rep->priv;
	sc->cap = run->suite->n_cases;
	sc->rows = calloc(sc->cap ? sc->cap : 1, sizeof(*sc->rows));
	if (!sc->rows) {
		fprintf(stderr, "harness: out of memory\n");
		return -1;
	}
	/* a folder that cannot take the file fails now, not after every case ran */
	return summary_save(run, sc);
}

static int summary_case_done(struct reporter *rep, const struct run_info *run, const struct case_record *rec)
{
	struct summary_csv *sc = rep->priv;
	if (sc->n < sc->cap)
		sc->rows[sc->n++] = *rec->row;
	return summary_save(run, sc);
}

static int summary_run_end(struct reporter *rep, const struct run_info *run, const struct run_totals *t)
{
	(void)t;
	return summary_save(run, rep->priv);
}

static void summary_release(struct reporter *rep)
{
	struct summary_csv *sc = rep->priv;
	free(sc->rows);
}

const struct reporter_ops reporter_summary_csv = {
	.name = "summary_csv",
	.priv_size = sizeof(struct summary_csv),
	.run_start = summary_run_start,
	.case_done = summary_case_done,
	.run_end = summary_run_end,
	.release = summary_release,
};
