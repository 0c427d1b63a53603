/*
 * The summary.csv reporter: the header written once, then one row appended
 * and fsynced per case (constant work per case, and every finished case is
 * on disk if the harness dies). A row that could not be appended is cut
 * back off the file and its case's status says so. After --resume the kept
 * rows come first, so the end puts the file in suite order once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reporter.h"
#include "resume.h"

struct summary_csv {
	int fd;              /* summary.csv, O_APPEND, while open */
	bool open;
	off_t size;          /* what is good on disk */
	char **rows;         /* --resume only: per case, its record as on disk (NULL: none) */
	size_t n_cases, n_rows, n_new;
};

static void summary_path(const struct run_info *run, char *path, size_t len)
{
	snprintf(path, len, "%s/summary.csv", run->out);
}

static int summary_run_start(struct reporter *rep, const struct run_info *run)
{
	struct summary_csv *sc = rep->priv;
	sc->n_cases = run->suite->n_cases;
	char *text = NULL, path[4096];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f) {
		fprintf(stderr, "harness: out of memory\n");
		return -1;
	}
	write_summary_header(f);
	const struct resume_state *rs = run->resume;
	if (rs && rs->n_kept) {
		sc->rows = calloc(sc->n_cases, sizeof(*sc->rows));
		if (!sc->rows) {
			fclose(f);
			free(text);
			fprintf(stderr, "harness: out of memory\n");
			return -1;
		}
		for (size_t i = 0; i < rs->n_cases; i++)
			if (rs->row[i]) {
				fputs(rs->row[i], f);
				sc->rows[i] = strdup(rs->row[i]);
				sc->n_rows++;
			}
	}
	fclose(f);
	summary_path(run, path, sizeof(path));
	/* a folder that cannot take the file fails now, not after every case ran */
	int rc = text ? write_file_atomic(path, text, len) : -1;
	free(text);
	if (rc == 0)
		sc->fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	sc->open = rc == 0 && sc->fd >= 0;
	if (!sc->open) {
		fprintf(stderr, "harness: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	sc->size = (off_t)len;
	return 0;
}

static int summary_case_done(struct reporter *rep, const struct run_info *run, struct case_record *rec)
{
	(void)run;
	struct summary_csv *sc = rep->priv;
	if (rec->kept)
		return 0;   /* its row is in the file as it was */
	size_t len = 0;
	char *text = summary_row_text(rec->row, &len);
	if (!text || !sc->open || append_record(sc->fd, &sc->size, text, len) != 0) {
		case_output_failed(rec, "summary.csv", text ? (sc->open ? errno : EBADF) : ENOMEM);
		free(text);
		return -1;
	}
	sc->n_rows++;
	sc->n_new++;
	if (sc->rows && rec->index < sc->n_cases) {
		free(sc->rows[rec->index]);
		sc->rows[rec->index] = text;
	} else {
		free(text);
	}
	return 0;
}

/* After --resume: the header and every row on disk, in suite order. */
static int summary_reorder(const struct run_info *run, const struct summary_csv *sc)
{
	char *text = NULL, path[4096];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return -1;
	write_summary_header(f);
	for (size_t i = 0; i < sc->n_cases; i++)
		if (sc->rows[i])
			fputs(sc->rows[i], f);
	if (fclose(f) != 0) {
		free(text);
		return -1;
	}
	summary_path(run, path, sizeof(path));
	int rc = write_file_atomic(path, text, len);
	free(text);
	return rc;
}

static int summary_run_end(struct reporter *rep, const struct run_info *run, struct run_totals *t)
{
	struct summary_csv *sc = rep->priv;
	int rc = 0;
	if (sc->open) {
		close(sc->fd);
		sc->open = false;
	}
	if (sc->rows && sc->n_new && summary_reorder(run, sc) != 0) {
		/* the rows are all there, kept ones first */
		run_output_failed(t, "summary.csv in suite order", errno ? errno : ENOMEM);
		rc = -1;
	}
	t->rows_on_disk = sc->n_rows;
	return rc;
}

static void summary_release(struct reporter *rep)
{
	struct summary_csv *sc = rep->priv;
	if (sc->open)
		close(sc->fd);
	for (size_t i = 0; sc->rows && i < sc->n_cases; i++)
		free(sc->rows[i]);
	free(sc->rows);
}

const struct reporter_ops reporter_summary_csv = {
	.name = "summary_csv",
	.writes_files = true,
	.priv_size = sizeof(struct summary_csv),
	.run_start = summary_run_start,
	.case_done = summary_case_done,
	.run_end = summary_run_end,
	.release = summary_release,
};
