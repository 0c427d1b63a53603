/*
 * harness run --resume: what of a results folder a new run keeps. A case is
 * kept when its summary.csv row says ok, its cases.jsonl (or meta.json)
 * record says ok and its hist/CASE.csv is there; its row and record are then
 * kept byte for byte and it does not run again. Every other case runs, its
 * stale hist/, raw/ and data/ files removed first.
 */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "output.h"
#include "suite.h"

struct resume_state {
	size_t n_cases;        /* of the suite */
	char **row;            /* per case: its summary.csv record as on disk, '\n' included; NULL: runs again */
	char **record;         /* per case: its cases.jsonl line, '\n' included (NULL with row) */
	size_t n_kept;
	json_t *previous_run;  /* meta.json's "run" of the folder */
};

/*
 * Read the folder out for suite s. Returns 0, or -1 with one line in err:
 * no meta.json, another suite (sha256), other summary.csv columns, a case
 * the suite (as filtered) does not have.
 */
int resume_load(const char *out, const struct suite *s, struct resume_state *rs, char *err, size_t err_len);
/* Remove the stale hist/, raw/ and data/ files of every case that runs again; 0 or -1 with err. */
int resume_clean(const char *out, const struct suite *s, const struct resume_state *rs, char *err, size_t err_len);
/* A kept case's row back as cells (text cells as written, a neutralised formula restored); 0 or -1. */
int resume_row(const struct resume_state *rs, size_t index, struct summary_row *row);
void resume_free(struct resume_state *rs);

/*
 * The cells of one CSV record (RFC 4180: quoted cells, "" for a quote), each
 * into cells[i] of cell_len bytes (cut to fit); returns how many, at most max.
 */
int csv_split_record(const char *rec, size_t rec_len, char (*cells)[600], int max);
/* The length of the first CSV record of text (its '\n' included), or 0 when it has no end (torn). */
size_t csv_record_len(const char *text, size_t len);
