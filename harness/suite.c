/* Suite loading: files, [suite] tables, includes and references; the cases themselves are suite_case.c. */
#include "suite.h"

#include <fnmatch.h>
#include <inttypes.h>
#include <sha2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infile.h"
#include "suite_parse.h"
#include "toml_c.h"
int suite_fail(struct suite_ctx *c, int line, const char *key, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (key)
		snprintf(c->err, c->err_len, "%s:%d: key '%s': %s", c->path, line, key, msg);
	else
		snprintf(c->err, c->err_len, "%s:%d: %s", c->path, line, msg);
	return -1;
}

bool suite_has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

void suite_sanitize_name(char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '_' || *s == '=' || *s == '-'))
			*s = '_';
}

static int parse_suite_table(struct suite_ctx *c, const struct tval *t, struct suite *s)
{
	if (!t)
		return 0;
	if (t->type != TV_TABLE)
		return suite_fail(c, t->line, "suite", "expected a table, got %s", tval_type_name(t->type));
	for (size_t i = 0; i < t->count; i++) {
		const struct tval *v = &t->items[i];
		bool is_name = strcmp(v->key, "name") == 0;
		if (strcmp(v->key, "include") == 0)
			continue;   /* suite_load's */
		if (!is_name && strcmp(v->key, "description") != 0)
			return suite_fail(c, v->line, v->key, "unknown key in [suite] (known: name, description, include)");
		if (v->type != TV_STRING)
			return suite_fail(c, v->line, v->key, "expected string, got %s", tval_type_name(v->type));
		if (is_name) {
			/* the name goes into folder names: short, one line */
			if (strlen(v->u.s) >= sizeof(s->name) || suite_has_control(v->u.s))
				return suite_fail(c, v->line, v->key, "a suite name is one line of at most %zu bytes",
					    sizeof(s->name) - 1);
			snprintf(s->name, sizeof(s->name), "%s", v->u.s);
		} else {
			/* a description is kept whole, however long */
			free(s->description);
			s->description = strdup(v->u.s);
			if (!s->description)
				return suite_fail(c, v->line, v->key, "out of memory");
		}
	}
	return 0;
}

/* Every reference a case names must exist: load the reference data once, if needed. */
static int check_references(struct suite_ctx *c, struct suite *s)
{
	bool loaded = false;
	for (size_t i = 0; i < s->n_cases; i++) {
		const struct case_spec *cs = &s->cases[i];
		if (!cs->set.reference[0])
			continue;
		int line = cs->ref_line ? cs->ref_line : cs->line;
		if (!loaded) {
			char why[512];
			if (refs_load(refs_default_dir(), &s->refs, why, sizeof(why)) != 0)
				return suite_fail(c, line, "reference", "cannot read reference data: %s", why);
			loaded = true;
		}
		if (!refs_find(&s->refs, cs->set.reference))
			return suite_fail(c, line, "reference", "no row '%s' in the CSV files of %s", cs->set.reference, s->refs.dir);
	}
	return 0;
}

static int load(const char *path, struct suite *s, char *err, size_t err_len, unsigned depth);

/* The suites named by [suite] include = [...], paths relative to the including file: their cases, as they stand. */
static int load_includes(struct suite_ctx *c, const struct tval *suite_tbl, struct suite *s, unsigned depth, SHA2_CTX *hash)
{
	const struct tval *inc = tval_get(suite_tbl, "include");
	if (!inc)
		return 0;
	if (inc->type != TV_ARRAY)
		return suite_fail(c, inc->line, "include", "expected a list of suite files, got %s", tval_type_name(inc->type));
	if (depth >= SUITE_MAX_INCLUDE_DEPTH)
		return suite_fail(c, inc->line, "include", "suites included more than %d deep (an include cycle?)",
			    SUITE_MAX_INCLUDE_DEPTH);
	for (size_t i = 0; i < inc->count; i++) {
		const struct tval *v = &inc->items[i];
		/* "FILE", or { file = "FILE", prefix = "P." } to keep case names apart */
		const struct tval *file = v->type == TV_TABLE ? tval_get(v, "file") : v;
		const struct tval *prefix = v->type == TV_TABLE ? tval_get(v, "prefix") : NULL;
		if (!file || file->type != TV_STRING || !file->u.s[0])
			return suite_fail(c, v->line, "include", "expected a suite file name, or { file = \"...\", prefix = \"...\" }");
		if (v->type == TV_TABLE && v->count != (prefix ? 2u : 1u))
			return suite_fail(c, v->line, "include", "an include table has the keys file and prefix");
		if (prefix && (prefix->type != TV_STRING || strlen(prefix->u.s) > 32 || suite_has_control(prefix->u.s)))
			return suite_fail(c, prefix->line, "include", "prefix: a short string");
		char path[1024];
		const char *slash = strrchr(c->path, '/');
		if (file->u.s[0] == '/' || !slash)
			snprintf(path, sizeof(path), "%s", file->u.s);
		else
			snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - c->path), c->path, file->u.s);
		struct suite sub;
		/* an error inside the included suite names its own file and line */
		if (load(path, &sub, c->err, c->err_len, depth + 1) != 0)
			return -1;
		SHA256Update(hash, (const uint8_t *)sub.sha256_hex, strlen(sub.sha256_hex));
		int rc = 0;
		for (size_t k = 0; k < sub.n_cases; k++) {
			struct case_spec *cs = &sub.cases[k];
			if (prefix) {
				char named[sizeof(cs->name)];
				int w = snprintf(named, sizeof(named), "%s%s", prefix->u.s, cs->name);
				if (w < 0 || (size_t)w >= sizeof(named)) {
					rc = suite_fail(c, prefix->line, "include", "prefix makes case '%s' too long", cs->name);
					break;
				}
				suite_sanitize_name(named);
				memcpy(cs->name, named, sizeof(named));
			}
			for (size_t j = 0; j < s->n_cases && !rc; j++)
				if (strcmp(s->cases[j].name, cs->name) == 0)
					rc = suite_fail(c, v->line, "include", "case '%s' of %s is already in the suite", cs->name, path);
			if (!rc && suite_push_case(c, s, cs) == 0) {
				cs->mech_cfg = cs->load_cfg = NULL;   /* moved */
				continue;
			}
			rc = -1;
			break;
		}
		suite_free(&sub);
		if (rc)
			return -1;
	}
	return 0;
}

static int load(const char *path, struct suite *s, char *err, size_t err_len, unsigned depth)
{
	memset(s, 0, sizeof(*s));
	struct suite_ctx c = { .path = path, .err = err, .err_len = err_len };
	snprintf(s->path, sizeof(s->path), "%s", path);

	char *text;
	size_t text_len;
	if (infile_read(path, INFILE_MAX_SUITE_BYTES, &text, &text_len, err, err_len) != 0)
		return -1;
	char perr[512];
	int pline;
	struct tval *root = tval_parse_text(text, text_len, path, perr, sizeof(perr), &pline);
	/* the hash of exactly what was parsed, and of every suite it includes */
	SHA2_CTX hash;
	SHA256Init(&hash);
	SHA256Update(&hash, (const uint8_t *)text, text_len);
	free(text);
	if (!root) {
		if (pline)
			snprintf(err, err_len, "%s:%s", path, perr);
		else
			snprintf(err, err_len, "%s: %s", path, perr);
		return -1;
	}

	int rc = 0;
	for (size_t i = 0; i < root->count && !rc; i++) {
		const char *k = root->items[i].key;
		if (strcmp(k, "suite") && strcmp(k, "defaults") && strcmp(k, "case"))
			rc = suite_fail(&c, root->items[i].line, k, "unknown top-level key (known: suite, defaults, case)");
	}
	if (!rc)
		rc = parse_suite_table(&c, tval_get(root, "suite"), s);
	if (!rc)
		rc = load_includes(&c, tval_get(root, "suite"), s, depth, &hash);
	struct case_settings defaults;
	if (!rc)
		rc = suite_load_defaults(&c, tval_get(root, "defaults"), &defaults);
	const struct tval *cases = tval_get(root, "case");
	if (!rc && cases && cases->type != TV_ARRAY)
		rc = suite_fail(&c, cases->line, "case", "expected [[case]] tables");
	if (!rc && !cases && s->n_cases == 0)
		rc = suite_fail(&c, 1, "case", "a suite needs at least one [[case]] (or an include)");
	for (size_t i = 0; !rc && cases && i < cases->count; i++)
		rc = suite_parse_case(&c, s, &cases->items[i], &defaults);
	if (!rc)
		rc = check_references(&c, s);
	if (!rc && !s->name[0]) {
		const char *base = strrchr(path, '/');
		snprintf(s->name, sizeof(s->name), "%s", base ? base + 1 : path);
		char *dot = strrchr(s->name, '.');
		if (dot)
			*dot = '\0';
	}
	char hex[SHA256_DIGEST_STRING_LENGTH];
	SHA256End(&hash, hex);
	snprintf(s->sha256_hex, sizeof(s->sha256_hex), "%s", hex);
	tval_free(root);
	if (rc)
		suite_free(s);
	return rc;
}

int suite_load(const char *path, struct suite *s, char *err, size_t err_len)
{
	return load(path, s, err, err_len, 0);
}

void suite_free(struct suite *s)
{
	for (size_t i = 0; i < s->n_cases; i++)
		suite_case_free(&s->cases[i]);
	free(s->cases);
	s->cases = NULL;
	s->n_cases = 0;
	free(s->description);
	s->description = NULL;
	refs_free(&s->refs);
}

void suite_filter(struct suite *s, const char *pattern)
{
	size_t keep = 0;
	for (size_t i = 0; i < s->n_cases; i++) {
		if (fnmatch(pattern, s->cases[i].name, 0) == 0)
			s->cases[keep++] = s->cases[i];
		else
			suite_case_free(&s->cases[i]);
	}
	s->n_cases = keep;
}
