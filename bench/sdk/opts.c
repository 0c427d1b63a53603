/* Option tables: defaults, typed setters, formatting. */
#include "opts.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *opt_type_name(enum opt_type t)
{
	switch (t) {
	case OPT_INT: return "int";
	case OPT_BOOL: return "bool";
	case OPT_STR: return "string";
	case OPT_ENUM: return "enum";
	case OPT_END: break;
	}
	return "?";
}

const struct opt_desc *opt_find(const struct opt_desc *table, const char *name)
{
	for (const struct opt_desc *d = table; d && d->name; d++)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

size_t opt_count(const struct opt_desc *table)
{
	size_t n = 0;
	for (const struct opt_desc *d = table; d && d->name; d++)
		n++;
	return n;
}

int opt_set_int(const struct opt_desc *d, void *cfg, int64_t v, char *why, size_t why_len)
{
	if (d->type != OPT_INT) {
		snprintf(why, why_len, "expected %s, got integer", opt_type_name(d->type));
		return -1;
	}
	if (v < d->min || v > d->max) {
		snprintf(why, why_len, "%" PRId64 " is out of range [%" PRId64 ", %" PRId64 "]",
			 v, d->min, d->max);
		return -1;
	}
	*(int64_t *)((char *)cfg + d->offset) = v;
	return 0;
}

int opt_set_bool(const struct opt_desc *d, void *cfg, bool v, char *why, size_t why_len)
{
	if (d->type != OPT_BOOL) {
		snprintf(why, why_len, "expected %s, got boolean", opt_type_name(d->type));
		return -1;
	}
	*(bool *)((char *)cfg + d->offset) = v;
	return 0;
}

static int enum_index(const struct opt_desc *d, const char *v)
{
	for (int i = 0; d->choices && d->choices[i]; i++)
		if (strcmp(d->choices[i], v) == 0)
			return i;
	return -1;
}

static void enum_choices(const struct opt_desc *d, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; d->choices && d->choices[i] && used < len; i++) {
		int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", d->choices[i]);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

int opt_set_str(const struct opt_desc *d, void *cfg, const char *v, char *why, size_t why_len)
{
	if (d->type == OPT_ENUM) {
		int idx = enum_index(d, v);
		if (idx < 0) {
			char choices[256];
			enum_choices(d, choices, sizeof(choices));
			snprintf(why, why_len, "'%s' is not one of: %s", v, choices);
			return -1;
		}
		*(int *)((char *)cfg + d->offset) = idx;
		return 0;
	}
	if (d->type != OPT_STR) {
		snprintf(why, why_len, "expected %s, got string", opt_type_name(d->type));
		return -1;
	}
	size_t n = strlen(v);
	if (n >= OPT_STR_MAX) {
		snprintf(why, why_len, "string longer than %d characters", OPT_STR_MAX - 1);
		return -1;
	}
	if (d->check && d->check(v, why, why_len) != 0)
		return -1;
	memcpy((char *)cfg + d->offset, v, n + 1);
	return 0;
}

int opt_set_text(const struct opt_desc *d, void *cfg, const char *text, char *why, size_t why_len)
{
	switch (d->type) {
	case OPT_INT: {
		char *end;
		errno = 0;
		long long v = strtoll(text, &end, 0);
		if (errno || end == text || *end) {
			snprintf(why, why_len, "'%s' is not an integer", text);
			return -1;
		}
		return opt_set_int(d, cfg, v, why, why_len);
	}
	case OPT_BOOL:
		if (strcmp(text, "true") == 0)
			return opt_set_bool(d, cfg, true, why, why_len);
		if (strcmp(text, "false") == 0)
			return opt_set_bool(d, cfg, false, why, why_len);
		snprintf(why, why_len, "'%s' is not true or false", text);
		return -1;
	case OPT_STR:
	case OPT_ENUM:
		return opt_set_str(d, cfg, text, why, why_len);
	case OPT_END:
		break;
	}
	snprintf(why, why_len, "bad option type");
	return -1;
}

int opt_apply_defaults(const struct opt_desc *table, void *cfg, char *why, size_t why_len)
{
	for (const struct opt_desc *d = table; d && d->name; d++) {
		char inner[160];
		if (!d->def) {
			snprintf(why, why_len, "option %s has no default", d->name);
			return -1;
		}
		if (opt_set_text(d, cfg, d->def, inner, sizeof(inner)) != 0) {
			snprintf(why, why_len, "default of %s: %s", d->name, inner);
			return -1;
		}
	}
	return 0;
}

int opt_format(const struct opt_desc *d, const void *cfg, char *buf, size_t len)
{
	const char *p = (const char *)cfg + d->offset;
	switch (d->type) {
	case OPT_INT:
		return snprintf(buf, len, "%" PRId64, *(const int64_t *)p);
	case OPT_BOOL:
		return snprintf(buf, len, "%s", *(const bool *)p ? "true" : "false");
	case OPT_STR:
		return snprintf(buf, len, "%s", p);
	case OPT_ENUM:
		return snprintf(buf, len, "%s", d->choices[*(const int *)p]);
	case OPT_END:
		break;
	}
	return snprintf(buf, len, "?");
}
