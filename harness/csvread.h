/* Reading CSV files (RFC 4180, through libcsv) one record at a time. */
#pragma once
#include <stddef.h>

#define CSVREAD_MAX_FIELDS 64

/*
 * Called for every record, the header included (record 1). Return 0 to go
 * on, non-zero to stop: csv_read_file then returns that value.
 */
typedef int (*csv_row_fn)(void *arg, char *const *fields, int n_fields, long record);

/* Returns 0, the callback's non-zero value, or -1 with "PATH: problem" in err. */
int csv_read_file(const char *path, csv_row_fn fn, void *arg, char *err, size_t err_len);
