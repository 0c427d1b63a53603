/*
 * Typed, documented options (fio's option tables are the model).
 *
 * A mechanism or load generator describes its parameters in a table of
 * struct opt_desc; each entry names a field of the owner's config struct by
 * offset. The harness fills the struct from defaults and from the suite, and
 * `harness list` prints the table. Nobody parses options by hand.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OPT_STR_MAX 128

enum opt_type {
	OPT_END = 0,
	OPT_INT,      /* int64_t field, range [min, max] */
	OPT_BOOL,     /* bool field */
	OPT_STR,      /* char[OPT_STR_MAX] field */
	OPT_ENUM,     /* int field: index into choices (NULL-terminated) */
};

struct opt_desc {
	const char *name;
	enum opt_type type;
	size_t offset;
	const char *def;            /* default, written as in a suite */
	int64_t min, max;           /* OPT_INT range, inclusive */
	const char *const *choices; /* OPT_ENUM */
	const char *unit;           /* shown in help: "us", "pages", ... */
	const char *help;
	/*
	 * OPT_STR: optional check of a value's form, run when the suite is
	 * loaded (so `harness check` catches it, not setup). Returns 0, or -1
	 * with why ("expected three percentages like 40,30,20").
	 */
	int (*check)(const char *value, char *why, size_t why_len);
};

#define OPT_INT_FIELD(st, field, dflt, lo, hi, unit_, help_) \
	{ .name = #field, .type = OPT_INT, .offset = offsetof(st, field), .def = dflt, \
	  .min = lo, .max = hi, .unit = unit_, .help = help_ }
#define OPT_BOOL_FIELD(st, field, dflt, help_) \
	{ .name = #field, .type = OPT_BOOL, .offset = offsetof(st, field), .def = dflt, .help = help_ }
#define OPT_STR_FIELD(st, field, dflt, help_) \
	{ .name = #field, .type = OPT_STR, .offset = offsetof(st, field), .def = dflt, .help = help_ }
/* A string whose form check_fn validates at suite load. */
#define OPT_STR_CHECKED_FIELD(st, field, dflt, check_fn, help_) \
	{ .name = #field, .type = OPT_STR, .offset = offsetof(st, field), .def = dflt, .help = help_, \
	  .check = check_fn }
#define OPT_ENUM_FIELD(st, field, dflt, choices_, help_) \
	{ .name = #field, .type = OPT_ENUM, .offset = offsetof(st, field), .def = dflt, \
	  .choices = choices_, .help = help_ }
#define OPT_TABLE_END { .name = NULL, .type = OPT_END }

const char *opt_type_name(enum opt_type t);
const struct opt_desc *opt_find(const struct opt_desc *table, const char *name);
size_t opt_count(const struct opt_desc *table);

/* Apply every default in the table to cfg. Returns 0, or -1 with why. */
int opt_apply_defaults(const struct opt_desc *table, void *cfg, char *why, size_t why_len);

/* Typed setters: return 0, or -1 with a reason ("must be in [1, 1000]"). */
int opt_set_int(const struct opt_desc *d, void *cfg, int64_t v, char *why, size_t why_len);
int opt_set_bool(const struct opt_desc *d, void *cfg, bool v, char *why, size_t why_len);
int opt_set_str(const struct opt_desc *d, void *cfg, const char *v, char *why, size_t why_len);
/* Parse a textual value (defaults, command line) according to the type. */
int opt_set_text(const struct opt_desc *d, void *cfg, const char *text, char *why, size_t why_len);

/* The current value as text ("1000", "true", "getppid"), for metadata. */
int opt_format(const struct opt_desc *d, const void *cfg, char *buf, size_t len);

static inline int64_t *opt_int_ptr(const struct opt_desc *d, void *cfg)
{
	return (int64_t *)((char *)cfg + d->offset);
}
