/* Internal to suite.c and suite_case.c: the parsing context and what one file uses of the other. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "compiler.h"
#include "suite.h"
#include "toml_c.h"

struct suite_ctx {
	const char *path;
	char *err;
	size_t err_len;
};

/* Writes "PATH:LINE: key 'KEY': message" (or without the key) into c->err; returns -1. */
int suite_fail(struct suite_ctx *c, int line, const char *key, const char *fmt, ...) BENCH_PRINTF(4, 5);
bool suite_has_control(const char *s);
void suite_sanitize_name(char *s);
int suite_push_case(struct suite_ctx *c, struct suite *s, const struct case_spec *cs);
void suite_case_free(struct case_spec *cs);
/* [defaults] into *set (the case settings' defaults first). */
int suite_load_defaults(struct suite_ctx *c, const struct tval *tbl, struct case_settings *set);
/* One [[case]] table, expanded over its sweeps, appended to s. */
int suite_parse_case(struct suite_ctx *c, struct suite *s, const struct tval *tbl, const struct case_settings *defaults);
