/*
 * Key/value facts a mechanism reports about its run (missed periods, the
 * cyclictest command line, the TSC sync result, ...). Fixed size, so it can
 * live in memory shared with the parent; the parent copies it into meta.json.
 */
#pragma once
#include <stddef.h>
#include "compiler.h"

#define REPORT_MAX_ITEMS 32
#define REPORT_KEY_MAX 48
#define REPORT_VAL_MAX 208

struct report_item {
	char key[REPORT_KEY_MAX];
	char val[REPORT_VAL_MAX];
};

struct report {
	unsigned count;
	unsigned dropped;   /* items that did not fit */
	struct report_item items[REPORT_MAX_ITEMS];
};

/* Add or replace key. */
void report_kv(struct report *r, const char *key, const char *fmt, ...) BENCH_PRINTF(3, 4);
const char *report_get(const struct report *r, const char *key);
