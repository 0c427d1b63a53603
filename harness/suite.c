/* Suite loading: TOML nodes -> validated, sweep-expanded cases. */
#include "suite.h"

#include <fnmatch.h>
#include <inttypes.h>
#include <sha2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infile.h"
#include "toml_c.h"

const struct opt_desc case_settings_opts[] = {
	OPT_INT_FIELD(struct case_settings, samples, "10000", 1, 1000000000000, "samples",
		      "samples recorded after warm-up (more than 10^7 are streamed into a histogram: keep_samples)"),
	OPT_INT_FIELD(struct case_settings, repeat, "1", 1, 1000, "runs",
		      "repetitions, each its own child process, interleaved round-robin with the suite's other cases in "
		      "a shuffled order; the row's statistics are over all, its spread between repetitions in rep_* "
		      "columns (compare decides on it)"),
	OPT_INT_FIELD(struct case_settings, duration_s, "0", 0, 604800, "s",
		      "measure for this long instead of `samples` (0 = count samples); streamed, in constant memory"),
	OPT_BOOL_FIELD(struct case_settings, keep_samples, "true",
		       "keep every raw sample (exact statistics, --raw); false or more than 10^7 samples or duration_s: "
		       "stream into a log-linear histogram (<= 0.78% error per bucket) in constant memory"),
	OPT_INT_FIELD(struct case_settings, stream_interval_ms, "1000", 10, 3600000, "ms",
		      "streamed cases: data/CASE/intervals.csv gets one row (count, min, max, p99) per interval"),
	OPT_INT_FIELD(struct case_settings, warmup, "1000", 0, 100000000, "samples",
		      "samples taken and discarded before recording (counted in meta.json)"),
	OPT_INT_FIELD(struct case_settings, timeout_s, "60", 1, 86400, "s",
		      "wall-clock limit of the case: SIGTERM, then SIGKILL 2 s later"),
	OPT_INT_FIELD(struct case_settings, priority, "0", 0, 99, "",
		      "SCHED_FIFO priority of the measuring thread and its peers (0 = SCHED_OTHER)"),
	OPT_INT_FIELD(struct case_settings, cpu, "-1", -1, 1023, "",
		      "CPU of the measuring thread (-1 = the last online CPU)"),
	OPT_INT_FIELD(struct case_settings, peer_cpu, "-1", -1, 1023, "",
		      "CPU of peers and loads (-1 = the first online CPU other than cpu)"),
	OPT_BOOL_FIELD(struct case_settings, mlock, "true", "mlockall(MCL_CURRENT | MCL_FUTURE) before measuring"),
	OPT_BOOL_FIELD(struct case_settings, dma_latency, "true",
		       "hold /dev/cpu_dma_latency open at 0 us while the case runs"),
	OPT_BOOL_FIELD(struct case_settings, degrade, "false",
		       "where priority, mlock or dma_latency cannot be set (no root, no CAP_SYS_NICE...): false = the "
		       "case is a skip naming what was refused; true = it runs without, and its row says so"),
	OPT_INT_FIELD(struct case_settings, timer_slack_ns, "1", -1, 1000000000, "ns",
		      "PR_SET_TIMERSLACK of the case process (-1 = leave as is)"),
	OPT_STR_FIELD(struct case_settings, reference, "",
		      "id of the paper's number (reference-data/*.csv) set beside this case"),
	OPT_ENUM_FIELD(struct case_settings, ref_stat, "mean", ref_stat_names,
		       "which statistic of the case is compared with the reference"),
	OPT_STR_FIELD(struct case_settings, stand_in, "",
		      "where the case is not what the paper measured: what stands in for what (e.g. \"signal "
		      "stands in for the kernel upcall\"); summary.csv, meta.json and the reports show it beside "
		      "the reference"),
	OPT_TABLE_END,
};

/* Keys with their own meaning in a [[case]] table. */
const char *const case_special_keys[] = { "name", "mechanism", "variant", "load", "load_opts", "pmu", NULL };

struct ctx {
	const char *path;
	char *err;
	size_t err_len;
};

static int fail(struct ctx *c, int line, const char *key, const char *fmt, ...) BENCH_PRINTF(4, 5);
static int fail(struct ctx *c, int line, const char *key, const char *fmt, ...)
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

static bool is_special(const char *key)
{
	for (int i = 0; case_special_keys[i]; i++)
		if (strcmp(case_special_keys[i], key) == 0)
			return true;
	return false;
}

/* "a, b, c" of an option table's names, for error messages. */
static void names_of(const struct opt_desc *t, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (; t && t->name && used < len; t++) {
		int w = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", t->name);
		if (w < 0)
			return;
		used += (size_t)w;
	}
}

/* Apply one scalar TOML value to an option. */
static int set_opt(struct ctx *c, const struct opt_desc *d, void *cfg, const struct tval *v, const char *key)
{
	char why[256];
	int rc;
	switch (v->type) {
	case TV_INT:
		rc = opt_set_int(d, cfg, v->u.i, why, sizeof(why));
		break;
	case TV_BOOL:
		rc = opt_set_bool(d, cfg, v->u.b, why, sizeof(why));
		break;
	case TV_STRING:
		rc = opt_set_str(d, cfg, v->u.s, why, sizeof(why));
		break;
	default:
		snprintf(why, sizeof(why), "expected %s, got %s", opt_type_name(d->type), tval_type_name(v->type));
		rc = -1;
	}
	return rc ? fail(c, v->line, key, "%s", why) : 0;
}

static int load_defaults(struct ctx *c, const struct tval *tbl, struct case_settings *set)
{
	char why[256];
	if (opt_apply_defaults(case_settings_opts, set, why, sizeof(why)) != 0)
		return fail(c, 1, NULL, "internal: %s", why);
	if (!tbl)
		return 0;
	if (tbl->type != TV_TABLE)
		return fail(c, tbl->line, "defaults", "expected a table, got %s", tval_type_name(tbl->type));
	for (size_t i = 0; i < tbl->count; i++) {
		const struct tval *v = &tbl->items[i];
		const struct opt_desc *d = opt_find(case_settings_opts, v->key);
		if (!d) {
			char known[512];
			names_of(case_settings_opts, known, sizeof(known));
			return fail(c, v->line, v->key, "unknown key in [defaults] (known: %s)", known);
		}
		if (set_opt(c, d, set, v, v->key))
			return -1;
	}
	return 0;
}

/* A member of a [[case]] table that takes part in building each case. */
struct member {
	const struct tval *node;    /* scalar, or array when swept */
	bool sweep;
};

/* Set cs->variant from a scalar `variant` value. */
static int apply_variant(struct ctx *c, struct case_spec *cs, const struct tval *v)
{
	if (v->type != TV_STRING)
		return fail(c, v->line, "variant", "expected string, got %s", tval_type_name(v->type));
	int idx = mechanism_variant_index(cs->mech, v->u.s);
	if (idx < 0) {
		char known[512] = "";
		size_t used = 0;
		for (int i = 0; cs->mech->variants[i].name && used < sizeof(known); i++)
			used += (size_t)snprintf(known + used, sizeof(known) - used, "%s%s",
						 i ? ", " : "", cs->mech->variants[i].name);
		return fail(c, v->line, "variant", "mechanism '%s' has no variant '%s' (known: %s)",
			    cs->mech->name, v->u.s, known);
	}
	cs->variant = idx;
	return 0;
}

/* "a, b, c" of the experiment's options. */
static void experiment_names(const struct mechanism_ops *m, unsigned variant, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; experiment_opt_at(m, variant, i) && used < len; i++) {
		int w = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", experiment_opt_at(m, variant, i)->name);
		if (w < 0)
			return;
		used += (size_t)w;
	}
}

/* The variants of m that have an option of this name, "a, b" (empty: none). */
static void variants_with(const struct mechanism_ops *m, const char *key, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (unsigned v = 0; m->variants[v].name && used < len; v++)
		if (opt_find(m->variants[v].opts, key)) {
			int w = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", m->variants[v].name);
			if (w < 0)
				return;
			used += (size_t)w;
		}
}

/* Route a scalar value of `key` (not `variant`) into the case being built. */
static int apply_member(struct ctx *c, struct case_spec *cs, const char *key, const struct tval *v)
{
	const struct opt_desc *d = opt_find(case_settings_opts, key);
	if (d)
		return set_opt(c, d, &cs->set, v, key);
	d = experiment_opt_find(cs->mech, (unsigned)cs->variant, key);
	if (d)
		return set_opt(c, d, cs->mech_cfg, v, key);
	const char *vname = cs->mech->variants[cs->variant].name;
	char mine[512], others[256];
	experiment_names(cs->mech, (unsigned)cs->variant, mine, sizeof(mine));
	variants_with(cs->mech, key, others, sizeof(others));
	if (others[0])
		return fail(c, v->line, key, "option of %s variant(s) %s, not of variant '%s' (its options: %s)",
			    cs->mech->name, others, vname, mine[0] ? mine : "none");
	char known_set[512];
	names_of(case_settings_opts, known_set, sizeof(known_set));
	return fail(c, v->line, key, "unknown key for mechanism '%s' variant '%s' (case keys: name, variant, load, "
		    "load_opts, pmu, %s; options of %s: %s)", cs->mech->name, vname, known_set, vname,
		    mine[0] ? mine : "none");
}

static void append(char *buf, size_t len, const char *fmt, ...) BENCH_PRINTF(3, 4);
static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	if (used >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

static void scalar_text(const struct tval *v, char *buf, size_t len)
{
	switch (v->type) {
	case TV_INT: snprintf(buf, len, "%" PRId64, v->u.i); break;
	case TV_BOOL: snprintf(buf, len, "%s", v->u.b ? "true" : "false"); break;
	case TV_STRING: snprintf(buf, len, "%s", v->u.s); break;
	case TV_FLOAT: snprintf(buf, len, "%g", v->u.f); break;
	default: snprintf(buf, len, "?"); break;
	}
}

/* Case names become file names: keep [A-Za-z0-9._=-], map the rest to '_'. */
static void sanitize_name(char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '_' || *s == '=' || *s == '-'))
			*s = '_';
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static int parse_load(struct ctx *c, const struct tval *tbl, struct case_spec *cs)
{
	const struct tval *load = tval_get(tbl, "load");
	const struct tval *lopts = tval_get(tbl, "load_opts");
	snprintf(cs->load_desc, sizeof(cs->load_desc), "none");
	if (!load || (load->type == TV_STRING && strcmp(load->u.s, "none") == 0)) {
		if (lopts)
			return fail(c, lopts->line, "load_opts", "given without a load");
		return 0;
	}
	if (load->type != TV_STRING)
		return fail(c, load->line, "load", "expected string, got %s", tval_type_name(load->type));
	cs->load = loadgen_find(load->u.s);
	if (!cs->load) {
		char known[512] = "none";
		for (size_t i = 0; loadgen_at(i); i++)
			append(known, sizeof(known), ", %s", loadgen_at(i)->name);
		return fail(c, load->line, "load", "no load generator '%s' (known: %s)", load->u.s, known);
	}
	cs->load_cfg = calloc(1, cs->load->cfg_size ? cs->load->cfg_size : 1);
	char why[256];
	if (!cs->load_cfg || opt_apply_defaults(cs->load->opts, cs->load_cfg, why, sizeof(why)))
		return fail(c, load->line, "load", "internal: %s", cs->load_cfg ? why : "out of memory");
	if (lopts) {
		if (lopts->type != TV_TABLE)
			return fail(c, lopts->line, "load_opts", "expected a table, got %s", tval_type_name(lopts->type));
		for (size_t i = 0; i < lopts->count; i++) {
			const struct tval *v = &lopts->items[i];
			const struct opt_desc *d = opt_find(cs->load->opts, v->key);
			if (!d) {
				char known[512];
				names_of(cs->load->opts, known, sizeof(known));
				return fail(c, v->line, v->key, "unknown option of load '%s' (known: %s)",
					    cs->load->name, known[0] ? known : "none");
			}
			if (set_opt(c, d, cs->load_cfg, v, v->key))
				return -1;
		}
	}
	snprintf(cs->load_desc, sizeof(cs->load_desc), "%s", cs->load->name);
	for (const struct opt_desc *d = cs->load->opts; d && d->name; d++) {
		char val[OPT_STR_MAX];
		opt_format(d, cs->load_cfg, val, sizeof(val));
		append(cs->load_desc, sizeof(cs->load_desc), " %s=%s", d->name, val);
	}
	return 0;
}

static int parse_pmu(struct ctx *c, const struct tval *tbl, struct case_spec *cs)
{
	const struct tval *p = tval_get(tbl, "pmu");
	if (!p)
		return 0;
	const struct tval *one = p->type == TV_STRING ? p : NULL;
	if (!one && p->type != TV_ARRAY)
		return fail(c, p->line, "pmu", "expected a list of event names, got %s", tval_type_name(p->type));
	size_t n = one ? 1 : p->count;
	if (n > PMU_MAX_EVENTS)
		return fail(c, p->line, "pmu", "at most %d events", PMU_MAX_EVENTS);
	for (size_t i = 0; i < n; i++) {
		const struct tval *e = one ? one : &p->items[i];
		if (e->type != TV_STRING || strlen(e->u.s) >= PMU_NAME_MAX || !e->u.s[0] || has_control(e->u.s))
			return fail(c, e->line, "pmu", "event names are non-empty strings under %d characters",
				    PMU_NAME_MAX);
		snprintf(cs->pmu_events[i], PMU_NAME_MAX, "%s", e->u.s);
	}
	cs->n_pmu = (unsigned)n;
	return 0;
}

static int push_case(struct ctx *c, struct suite *s, const struct case_spec *cs)
{
	for (size_t i = 0; i < s->n_cases; i++)
		if (strcmp(s->cases[i].name, cs->name) == 0)
			return fail(c, cs->line, "name", "case name '%s' is used twice (first at line %d)",
				    cs->name, s->cases[i].line);
	if (s->n_cases == s->cases_cap) {
		size_t cap = s->cases_cap ? s->cases_cap * 2 : 16;
		struct case_spec *n = realloc(s->cases, cap * sizeof(*n));
		if (!n)
			return fail(c, cs->line, NULL, "out of memory");
		s->cases = n;
		s->cases_cap = cap;
	}
	s->cases[s->n_cases++] = *cs;
	return 0;
}

static void case_free(struct case_spec *cs)
{
	free(cs->mech_cfg);
	free(cs->load_cfg);
	cs->mech_cfg = cs->load_cfg = NULL;
}

/* Build one concrete case from the scalars and the chosen sweep values. */
static int build_case(struct ctx *c, struct suite *s, const struct tval *tbl, const struct case_settings *defaults,
		      const struct mechanism_ops *mech, const struct member *m, size_t nm, const size_t *pick)
{
	struct case_spec cs;
	memset(&cs, 0, sizeof(cs));
	cs.line = tbl->line;
	cs.mech = mech;
	cs.set = *defaults;
	cs.mech_cfg = calloc(1, mech->cfg_size ? mech->cfg_size : 1);
	if (!cs.mech_cfg)
		return fail(c, tbl->line, NULL, "out of memory");

	/* the variant first: which options exist depends on it */
	const struct tval *name = tval_get(tbl, "name");
	bool variant_named = false;
	for (size_t i = 0; i < nm; i++) {
		if (strcmp(m[i].node->key, "variant") != 0)
			continue;
		const struct tval *v = m[i].sweep ? &m[i].node->items[pick[i]] : m[i].node;
		if (apply_variant(c, &cs, v)) {
			case_free(&cs);
			return -1;
		}
		/* an explicit name stands alone unless the variant is swept */
		variant_named = m[i].sweep || !name;
	}
	char why[256];
	const struct opt_desc *vopts = mech->variants[cs.variant].opts;
	if (opt_apply_defaults(mech->opts, cs.mech_cfg, why, sizeof(why)) ||
	    opt_apply_defaults(vopts, cs.mech_cfg, why, sizeof(why))) {
		case_free(&cs);
		return fail(c, tbl->line, "mechanism", "internal: %s", why);
	}

	char suffix[256] = "";
	for (size_t i = 0; i < nm; i++) {
		const struct tval *v = m[i].sweep ? &m[i].node->items[pick[i]] : m[i].node;
		const char *key = m[i].node->key;
		if (v->type == TV_ARRAY || v->type == TV_TABLE) {
			case_free(&cs);
			return fail(c, v->line, key, "a swept list holds scalars, not a %s", tval_type_name(v->type));
		}
		if (strcmp(key, "variant") == 0)
			continue;
		if (apply_member(c, &cs, key, v)) {
			case_free(&cs);
			return -1;
		}
		if (strcmp(key, "reference") == 0)
			cs.ref_line = v->line;
		if (m[i].sweep) {
			char val[128];
			scalar_text(v, val, sizeof(val));
			append(suffix, sizeof(suffix), "-%s=%s", key, val);
		}
	}
	int name_len = snprintf(cs.name, sizeof(cs.name), "%s%s%s%s", name ? name->u.s : mech->name,
				variant_named ? "-" : "", variant_named ? mech->variants[cs.variant].name : "", suffix);
	if (name_len < 0 || (size_t)name_len >= sizeof(cs.name)) {
		case_free(&cs);
		return fail(c, tbl->line, "name", "the case name '%.40s...' would be longer than %zu characters: "
			    "give the case a shorter name", cs.name, sizeof(cs.name) - 1);
	}
	sanitize_name(cs.name);
	if (cs.set.duration_s > 0 && cs.set.timeout_s <= cs.set.duration_s + SUITE_DURATION_SLACK_S) {
		case_free(&cs);
		return fail(c, tbl->line, "duration_s", "a case of duration_s = %lld needs timeout_s above %lld (it is %lld)",
			    (long long)cs.set.duration_s, (long long)(cs.set.duration_s + SUITE_DURATION_SLACK_S),
			    (long long)cs.set.timeout_s);
	}
	if (strchr("=+-@", cs.name[0])) {
		case_free(&cs);
		return fail(c, name ? name->line : tbl->line, "name", "'%s': a case name may not start with =, +, - or @ "
			    "(a spreadsheet would read it as a formula)", cs.name);
	}
	if (strcmp(cs.name, ".") == 0 || strcmp(cs.name, "..") == 0) {
		case_free(&cs);
		return fail(c, name ? name->line : tbl->line, "name", "'%s' cannot name a case: it names a folder "
			    "(case names become file names)", cs.name);
	}

	const struct opt_desc *d;
	for (size_t i = 0; (d = experiment_opt_at(mech, (unsigned)cs.variant, i)); i++) {
		char val[OPT_STR_MAX];
		opt_format(d, cs.mech_cfg, val, sizeof(val));
		append(cs.params, sizeof(cs.params), "%s%s=%s", cs.params[0] ? " " : "", d->name, val);
	}
	if (parse_load(c, tbl, &cs) || parse_pmu(c, tbl, &cs) || push_case(c, s, &cs)) {
		case_free(&cs);
		return -1;
	}
	return 0;
}

static int parse_case(struct ctx *c, struct suite *s, const struct tval *tbl, const struct case_settings *defaults)
{
	if (tbl->type != TV_TABLE)
		return fail(c, tbl->line, "case", "expected [[case]] tables, got %s", tval_type_name(tbl->type));
	const struct tval *mv = tval_get(tbl, "mechanism");
	if (!mv)
		return fail(c, tbl->line, "mechanism", "every case needs a mechanism");
	if (mv->type != TV_STRING)
		return fail(c, mv->line, "mechanism", "expected string, got %s", tval_type_name(mv->type));
	const struct mechanism_ops *mech = mechanism_find(mv->u.s);
	if (!mech) {
		char known[512] = "";
		for (size_t i = 0; mechanism_at(i); i++)
			append(known, sizeof(known), "%s%s", i ? ", " : "", mechanism_at(i)->name);
		return fail(c, mv->line, "mechanism", "no mechanism '%s' (known: %s)", mv->u.s, known);
	}
	const struct tval *name = tval_get(tbl, "name");
	if (name && (name->type != TV_STRING || !name->u.s[0]))
		return fail(c, name->line, "name", "expected a non-empty string");
	if (name && has_control(name->u.s))
		return fail(c, name->line, "name", "a case name holds no control characters");

	struct member *m = calloc(tbl->count + 1, sizeof(*m));
	size_t *pick = calloc(tbl->count + 1, sizeof(*pick));
	if (!m || !pick) {
		free(m);
		free(pick);
		return fail(c, tbl->line, NULL, "out of memory");
	}
	size_t nm = 0, product = 1;
	const struct tval *widest = NULL;
	for (size_t i = 0; i < tbl->count; i++) {
		const struct tval *v = &tbl->items[i];
		if (is_special(v->key) && strcmp(v->key, "variant") != 0)
			continue;
		if (v->type == TV_ARRAY && v->count == 0) {
			free(m);
			free(pick);
			return fail(c, v->line, v->key, "an empty list sweeps nothing");
		}
		m[nm].node = v;
		m[nm].sweep = v->type == TV_ARRAY;
		if (m[nm].sweep) {
			product = product > SUITE_MAX_CASES ? product : product * v->count;
			if (!widest || v->count > widest->count)
				widest = v;
		}
		nm++;
	}
	/* refuse before building: a few long lists multiply into millions of cases */
	if (s->n_cases + product > SUITE_MAX_CASES) {
		free(m);
		free(pick);
		return fail(c, widest ? widest->line : tbl->line, widest ? widest->key : "case",
			    "the sweeps expand to more than %d cases in this suite", SUITE_MAX_CASES);
	}
	/* odometer over the swept members: every combination, the last key fastest */
	int rc = 0;
	for (;;) {
		rc = build_case(c, s, tbl, defaults, mech, m, nm, pick);
		if (rc)
			break;
		bool advanced = false;
		for (size_t i = nm; i-- > 0 && !advanced;) {
			if (!m[i].sweep)
				continue;
			if (++pick[i] < m[i].node->count)
				advanced = true;
			else
				pick[i] = 0;
		}
		if (!advanced)
			break;
	}
	free(m);
	free(pick);
	return rc;
}

static int parse_suite_table(struct ctx *c, const struct tval *t, struct suite *s)
{
	if (!t)
		return 0;
	if (t->type != TV_TABLE)
		return fail(c, t->line, "suite", "expected a table, got %s", tval_type_name(t->type));
	for (size_t i = 0; i < t->count; i++) {
		const struct tval *v = &t->items[i];
		bool is_name = strcmp(v->key, "name") == 0;
		if (strcmp(v->key, "include") == 0)
			continue;   /* suite_load's */
		if (!is_name && strcmp(v->key, "description") != 0)
			return fail(c, v->line, v->key, "unknown key in [suite] (known: name, description, include)");
		if (v->type != TV_STRING)
			return fail(c, v->line, v->key, "expected string, got %s", tval_type_name(v->type));
		if (is_name) {
			/* the name goes into folder names: short, one line */
			if (strlen(v->u.s) >= sizeof(s->name) || has_control(v->u.s))
				return fail(c, v->line, v->key, "a suite name is one line of at most %zu bytes",
					    sizeof(s->name) - 1);
			snprintf(s->name, sizeof(s->name), "%s", v->u.s);
		} else {
			/* a description is kept whole, however long */
			free(s->description);
			s->description = strdup(v->u.s);
			if (!s->description)
				return fail(c, v->line, v->key, "out of memory");
		}
	}
	return 0;
}

/* Every reference a case names must exist: load the reference data once, if needed. */
static int check_references(struct ctx *c, struct suite *s)
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
				return fail(c, line, "reference", "cannot read reference data: %s", why);
			loaded = true;
		}
		if (!refs_find(&s->refs, cs->set.reference))
			return fail(c, line, "reference", "no row '%s' in the CSV files of %s", cs->set.reference, s->refs.dir);
	}
	return 0;
}

static int load(const char *path, struct suite *s, char *err, size_t err_len, unsigned depth);

/* The suites named by [suite] include = [...], paths relative to the including file: their cases, as they stand. */
static int load_includes(struct ctx *c, const struct tval *suite_tbl, struct suite *s, unsigned depth, SHA2_CTX *hash)
{
	const struct tval *inc = tval_get(suite_tbl, "include");
	if (!inc)
		return 0;
	if (inc->type != TV_ARRAY)
		return fail(c, inc->line, "include", "expected a list of suite files, got %s", tval_type_name(inc->type));
	if (depth >= SUITE_MAX_INCLUDE_DEPTH)
		return fail(c, inc->line, "include", "suites included more than %d deep (an include cycle?)",
			    SUITE_MAX_INCLUDE_DEPTH);
	for (size_t i = 0; i < inc->count; i++) {
		const struct tval *v = &inc->items[i];
		/* "FILE", or { file = "FILE", prefix = "P." } to keep case names apart */
		const struct tval *file = v->type == TV_TABLE ? tval_get(v, "file") : v;
		const struct tval *prefix = v->type == TV_TABLE ? tval_get(v, "prefix") : NULL;
		if (!file || file->type != TV_STRING || !file->u.s[0])
			return fail(c, v->line, "include", "expected a suite file name, or { file = \"...\", prefix = \"...\" }");
		if (v->type == TV_TABLE && v->count != (prefix ? 2u : 1u))
			return fail(c, v->line, "include", "an include table has the keys file and prefix");
		if (prefix && (prefix->type != TV_STRING || strlen(prefix->u.s) > 32 || has_control(prefix->u.s)))
			return fail(c, prefix->line, "include", "prefix: a short string");
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
					rc = fail(c, prefix->line, "include", "prefix makes case '%s' too long", cs->name);
					break;
				}
				sanitize_name(named);
				memcpy(cs->name, named, sizeof(named));
			}
			for (size_t j = 0; j < s->n_cases && !rc; j++)
				if (strcmp(s->cases[j].name, cs->name) == 0)
					rc = fail(c, v->line, "include", "case '%s' of %s is already in the suite", cs->name, path);
			if (!rc && push_case(c, s, cs) == 0) {
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
	struct ctx c = { .path = path, .err = err, .err_len = err_len };
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
			rc = fail(&c, root->items[i].line, k, "unknown top-level key (known: suite, defaults, case)");
	}
	if (!rc)
		rc = parse_suite_table(&c, tval_get(root, "suite"), s);
	if (!rc)
		rc = load_includes(&c, tval_get(root, "suite"), s, depth, &hash);
	struct case_settings defaults;
	if (!rc)
		rc = load_defaults(&c, tval_get(root, "defaults"), &defaults);
	const struct tval *cases = tval_get(root, "case");
	if (!rc && cases && cases->type != TV_ARRAY)
		rc = fail(&c, cases->line, "case", "expected [[case]] tables");
	if (!rc && !cases && s->n_cases == 0)
		rc = fail(&c, 1, "case", "a suite needs at least one [[case]] (or an include)");
	for (size_t i = 0; !rc && cases && i < cases->count; i++)
		rc = parse_case(&c, s, &cases->items[i], &defaults);
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
		case_free(&s->cases[i]);
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
			case_free(&s->cases[i]);
	}
	s->n_cases = keep;
}
