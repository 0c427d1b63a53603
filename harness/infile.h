/*
 * Opening the files the harness reads (suites, summaries, histograms,
 * reference data): regular files only, never more than a cap. A FIFO would
 * block forever, /dev/zero would never end, a directory reads as empty: each
 * is refused with one line that says what the path is.
 */
#pragma once
#include <stddef.h>
#include <stdio.h>

#define INFILE_MAX_SUITE_BYTES (4u << 20)    /* a suite: 4 MiB */
#define INFILE_MAX_CSV_BYTES (256u << 20)    /* a summary, histogram or reference CSV: 256 MiB */

/*
 * Open PATH for reading if it is a regular file of at most max_bytes.
 * Returns the stream, or NULL with "PATH: why" in err.
 */
FILE *infile_open(const char *path, size_t max_bytes, char *err, size_t err_len);
/* Read all of PATH (same rules) into a NUL-terminated malloc'ed buffer; 0 or -1 with err. */
int infile_read(const char *path, size_t max_bytes, char **buf, size_t *len, char *err, size_t err_len);
