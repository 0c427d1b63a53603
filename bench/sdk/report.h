/*
 * Facts a mechanism or load generator reports about its run (missed
 * periods, the cyclictest command line, the TSC sync result, ...). A fact
 * is text, or a number with its unit, so that plots and reports use numbers
 * without parsing text. Fixed size, so it can live in memory shared with the
 * parent; the parent copies it into meta.json: text as a string, a number
 * as {"value": V, "unit": "U"}.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "compiler.h"

#define REPORT_MAX_ITEMS 32
#define REPORT_KEY_MAX 48
#define REPORT_VAL_MAX 208
#define REPORT_UNIT_MAX 24

enum report_type { REPORT_TEXT = 0, REPORT_INT, REPORT_REAL };

struct report_item {
	char key[REPORT_KEY_MAX];
	unsigned char type;            /* enum report_type */
	char unit[REPORT_UNIT_MAX];    /* numbers: "cycles", "ns", "packets/s", "" = a plain count */
	int64_t i;                     /* REPORT_INT */
	double d;                      /* REPORT_REAL */
	char val[REPORT_VAL_MAX];      /* REPORT_TEXT */
};

struct report {
	unsigned count;
	unsigned dropped;   /* items that did not fit */
	struct report_item items[REPORT_MAX_ITEMS];
};

/* Add or replace key: text. */
void report_kv(struct report *r, const char *key, const char *fmt, ...) BENCH_PRINTF(3, 4);
/* Add or replace key: a whole number or a real number, with its unit ("" for a count). */
void report_int(struct report *r, const char *key, int64_t value, const char *unit);
void report_real(struct report *r, const char *key, double value, const char *unit);
