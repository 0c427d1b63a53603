/*
 * The results folder of `harness run`: a path that is not empty and not "/",
 * locked against a second run into it, and either holding nothing yet,
 * cleared of what a results folder holds (--force), or resumed (resume.h).
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* The lock file inside the folder: a POSIX record lock, held until the harness exits. */
#define OUTDIR_LOCK_NAME ".lock"

/* "" and any path that resolves to "/" are bad input: -1 with why in err. */
int outdir_check_path(const char *out, char *err, size_t err_len);

/*
 * Create the folder (mkdir -p), check it again (it may resolve to "/" only
 * now), and take its lock. Returns the lock's descriptor (keep it open for
 * the run), or -1 with one line in err; *busy is set when another run holds
 * the lock (err names its pid).
 */
int outdir_lock(const char *out, bool *busy, char *err, size_t err_len);

struct outdir_contents {
	unsigned n_entries;    /* besides the lock file and empty hist/, raw/, data/ folders */
	unsigned n_foreign;    /* entries no harness run or plot writes */
	bool results;          /* has summary.csv, meta.json or cases.jsonl */
	char names[256];       /* the first entries, for messages ("summary.csv, hist, ...") */
	char foreign[256];     /* the first foreign entries */
};

/* What the folder holds; 0 or -1 with err. */
int outdir_inspect(const char *out, struct outdir_contents *c, char *err, size_t err_len);

/*
 * --force: remove what a results folder holds (summary.csv, meta.json,
 * cases.jsonl, hist/, raw/, data/, plots/, report.html, report.txt and their
 * temporary files), never anything else; 0 or -1 with err.
 */
int outdir_clear(const char *out, char *err, size_t err_len);

/* rm -rf PATH without following symbolic links; a missing PATH is fine. 0 or -1 with errno. */
int remove_tree(const char *path);
