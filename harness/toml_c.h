/*
 * A plain-C view of a TOML document, parsed by toml++ (toml_c.cc is the
 * only C++ in gapbench). Every node keeps the line and column where it was
 * written, so that errors can name them.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum tval_type {
	TV_TABLE,
	TV_ARRAY,
	TV_STRING,
	TV_INT,
	TV_FLOAT,
	TV_BOOL,
	TV_OTHER,    /* dates and times: gapbench has no use for them */
};

struct tval {
	enum tval_type type;
	char *key;              /* member name inside a table, NULL otherwise */
	int line, col;
	union {
		char *s;
		int64_t i;
		double f;
		bool b;
	} u;
	struct tval *items;     /* table members (sorted by key) or array elements */
	size_t count;
};

/*
 * Parse the text of a file (path: for messages). On error returns NULL and
 * writes "LINE:COL: description" into err and the line into *err_line. A key
 * with a NUL or control character, or a string with a NUL, is an error: C
 * would see only its prefix.
 */
struct tval *tval_parse_text(const char *text, size_t len, const char *path, char *err, size_t err_len,
			     int *err_line);
void tval_free(struct tval *root);

const char *tval_type_name(enum tval_type t);
/* Member lookup in a table; NULL when absent or not a table. */
const struct tval *tval_get(const struct tval *table, const char *key);

#ifdef __cplusplus
}
#endif
