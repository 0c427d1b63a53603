/* Suite loading, the [[case]] tables: settings, options, loads, PMU events and sweeps. */
#include "suite.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite_parse.h"
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
		      "samples taken and discarded before recording (counted in meta.json); where neither the case "
		      "nor [defaults] sets it, a mechanism may name its own (workload: 1 build)"),
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
static int set_opt(struct suite_ctx *c, const struct opt_desc *d, void *cfg, const struct tval *v, const char *key)
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
	return rc ? suite_fail(c, v->line, key, "%s", why) : 0;
}

int suite_load_defaults(struct suite_ctx *c, const struct tval *tbl, struct case_settings *set)
{
	char why[256];
	memset(set, 0, sizeof(*set));   /* the fields no option sets (warmup_set) start false */
	if (opt_apply_defaults(case_settings_opts, set, why, sizeof(why)) != 0)
		return suite_fail(c, 1, NULL, "internal: %s", why);
	if (!tbl)
		return 0;
	if (tbl->type != TV_TABLE)
		return suite_fail(c, tbl->line, "defaults", "expected a table, got %s", tval_type_name(tbl->type));
	for (size_t i = 0; i < tbl->count; i++) {
		const struct tval *v = &tbl->items[i];
		const struct opt_desc *d = opt_find(case_settings_opts, v->key);
		if (!d) {
			char known[512];
			names_of(case_settings_opts, known, sizeof(known));
			return suite_fail(c, v->line, v->key, "unknown key in [defaults] (known: %s)", known);
		}
		if (set_opt(c, d, set, v, v->key))
			return -1;
		if (strcmp(v->key, "warmup") == 0)
			set->warmup_set = true;
	}
	return 0;
}

/* A member of a [[case]] table that takes part in building each case. */
struct member {
	const struct tval *node;    /* scalar, or array when swept */
	bool sweep;
};

/* Set cs->variant from a scalar `variant` value. */
static int apply_variant(struct suite_ctx *c, struct case_spec *cs, const struct tval *v)
{
	if (v->type != TV_STRING)
		return suite_fail(c, v->line, "variant", "expected string, got %s", tval_type_name(v->type));
	int idx = mechanism_variant_index(cs->mech, v->u.s);
	if (idx < 0) {
		char known[512] = "";
		size_t used = 0;
		for (int i = 0; cs->mech->variants[i].name && used < sizeof(known); i++)
			used += (size_t)snprintf(known + used, sizeof(known) - used, "%s%s",
						 i ? ", " : "", cs->mech->variants[i].name);
		return suite_fail(c, v->line, "variant", "mechanism '%s' has no variant '%s' (known: %s)",
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
static int apply_member(struct suite_ctx *c, struct case_spec *cs, const char *key, const struct tval *v)
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
		return suite_fail(c, v->line, key, "option of %s variant(s) %s, not of variant '%s' (its options: %s)",
			    cs->mech->name, others, vname, mine[0] ? mine : "none");
	char known_set[512];
	names_of(case_settings_opts, known_set, sizeof(known_set));
	return suite_fail(c, v->line, key, "unknown key for mechanism '%s' variant '%s' (case keys: name, variant, load, "
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
static int parse_load(struct suite_ctx *c, const struct tval *tbl, struct case_spec *cs)
{
	const struct tval *load = tval_get(tbl, "load");
	const struct tval *lopts = tval_get(tbl, "load_opts");
	snprintf(cs->load_desc, sizeof(cs->load_desc), "none");
	if (!load || (load->type == TV_STRING && strcmp(load->u.s, "none") == 0)) {
		if (lopts)
			return suite_fail(c, lopts->line, "load_opts", "given without a load");
		return 0;
	}
	if (load->type != TV_STRING)
		return suite_fail(c, load->line, "load", "expected string, got %s", tval_type_name(load->type));
	cs->load = loadgen_find(load->u.s);
	if (!cs->load) {
		char known[512] = "none";
		for (size_t i = 0; loadgen_at(i); i++)
			append(known, sizeof(known), ", %s", loadgen_at(i)->name);
		return suite_fail(c, load->line, "load", "no load generator '%s' (known: %s)", load->u.s, known);
	}
	cs->load_cfg = calloc(1, cs->load->cfg_size ? cs->load->cfg_size : 1);
	char why[256];
	if (!cs->load_cfg || opt_apply_defaults(cs->load->opts, cs->load_cfg, why, sizeof(why)))
		return suite_fail(c, load->line, "load", "internal: %s", cs->load_cfg ? why : "out of memory");
	if (lopts) {
		if (lopts->type != TV_TABLE)
			return suite_fail(c, lopts->line, "load_opts", "expected a table, got %s", tval_type_name(lopts->type));
		for (size_t i = 0; i < lopts->count; i++) {
			const struct tval *v = &lopts->items[i];
			const struct opt_desc *d = opt_find(cs->load->opts, v->key);
			if (!d) {
				char known[512];
				names_of(cs->load->opts, known, sizeof(known));
				return suite_fail(c, v->line, v->key, "unknown option of load '%s' (known: %s)",
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

static int parse_pmu(struct suite_ctx *c, const struct tval *tbl, struct case_spec *cs)
{
	const struct tval *p = tval_get(tbl, "pmu");
	if (!p)
		return 0;
	const struct tval *one = p->type == TV_STRING ? p : NULL;
	if (!one && p->type != TV_ARRAY)
		return suite_fail(c, p->line, "pmu", "expected a list of event names, got %s", tval_type_name(p->type));
	size_t n = one ? 1 : p->count;
	if (n > PMU_MAX_EVENTS)
		return suite_fail(c, p->line, "pmu", "at most %d events", PMU_MAX_EVENTS);
	for (size_t i = 0; i < n; i++) {
		const struct tval *e = one ? one : &p->items[i];
		if (e->type != TV_STRING || strlen(e->u.s) >= PMU_NAME_MAX || !e->u.s[0] || suite_has_control(e->u.s))
			return suite_fail(c, e->line, "pmu", "event names are non-empty strings under %d characters",
				    PMU_NAME_MAX);
		snprintf(cs->pmu_events[i], PMU_NAME_MAX, "%s", e->u.s);
	}
	cs->n_pmu = (unsigned)n;
	return 0;
}

int suite_push_case(struct suite_ctx *c, struct suite *s, const struct case_spec *cs)
{
	for (size_t i = 0; i < s->n_cases; i++)
		if (strcmp(s->cases[i].name, cs->name) == 0)
			return suite_fail(c, cs->line, "name", "case name '%s' is used twice (first at line %d)",
				    cs->name, s->cases[i].line);
	if (s->n_cases == s->cases_cap) {
		size_t cap = s->cases_cap ? s->cases_cap * 2 : 16;
		struct case_spec *n = realloc(s->cases, cap * sizeof(*n));
		if (!n)
			return suite_fail(c, cs->line, NULL, "out of memory");
		s->cases = n;
		s->cases_cap = cap;
	}
	s->cases[s->n_cases++] = *cs;
	return 0;
}

void suite_case_free(struct case_spec *cs)
{
	free(cs->mech_cfg);
	free(cs->load_cfg);
	cs->mech_cfg = cs->load_cfg = NULL;
}

/* Build one concrete case from the scalars and the chosen sweep values. */
static int build_case(struct suite_ctx *c, struct suite *s, const struct tval *tbl, const struct case_settings *defaults,
		      const struct mechanism_ops *mech, const struct member *m, size_t nm, const size_t *pick)
{
	struct case_spec cs;
	memset(&cs, 0, sizeof(cs));
	cs.line = tbl->line;
	cs.mech = mech;
	cs.set = *defaults;
	cs.mech_cfg = calloc(1, mech->cfg_size ? mech->cfg_size : 1);
	if (!cs.mech_cfg)
		return suite_fail(c, tbl->line, NULL, "out of memory");

	/* the variant first: which options exist depends on it */
	const struct tval *name = tval_get(tbl, "name");
	bool variant_named = false;
	for (size_t i = 0; i < nm; i++) {
		if (strcmp(m[i].node->key, "variant") != 0)
			continue;
		const struct tval *v = m[i].sweep ? &m[i].node->items[pick[i]] : m[i].node;
		if (apply_variant(c, &cs, v)) {
			suite_case_free(&cs);
			return -1;
		}
		/* an explicit name stands alone unless the variant is swept */
		variant_named = m[i].sweep || !name;
	}
	char why[256];
	const struct opt_desc *vopts = mech->variants[cs.variant].opts;
	if (opt_apply_defaults(mech->opts, cs.mech_cfg, why, sizeof(why)) ||
	    opt_apply_defaults(vopts, cs.mech_cfg, why, sizeof(why))) {
		suite_case_free(&cs);
		return suite_fail(c, tbl->line, "mechanism", "internal: %s", why);
	}

	char suffix[256] = "";
	if (!cs.set.warmup_set && mech->warmup_samples > 0)
		cs.set.warmup = mech->warmup_samples;   /* below: a case's own warmup key still wins */
	for (size_t i = 0; i < nm; i++) {
		const struct tval *v = m[i].sweep ? &m[i].node->items[pick[i]] : m[i].node;
		const char *key = m[i].node->key;
		if (v->type == TV_ARRAY || v->type == TV_TABLE) {
			suite_case_free(&cs);
			return suite_fail(c, v->line, key, "a swept list holds scalars, not a %s", tval_type_name(v->type));
		}
		if (strcmp(key, "variant") == 0)
			continue;
		if (apply_member(c, &cs, key, v)) {
			suite_case_free(&cs);
			return -1;
		}
		if (strcmp(key, "reference") == 0)
			cs.ref_line = v->line;
		if (strcmp(key, "warmup") == 0)
			cs.set.warmup_set = true;
		if (m[i].sweep) {
			char val[128];
			scalar_text(v, val, sizeof(val));
			append(suffix, sizeof(suffix), "-%s=%s", key, val);
		}
	}
	int name_len = snprintf(cs.name, sizeof(cs.name), "%s%s%s%s", name ? name->u.s : mech->name,
				variant_named ? "-" : "", variant_named ? mech->variants[cs.variant].name : "", suffix);
	if (name_len < 0 || (size_t)name_len >= sizeof(cs.name)) {
		suite_case_free(&cs);
		return suite_fail(c, tbl->line, "name", "the case name '%.40s...' would be longer than %zu characters: "
			    "give the case a shorter name", cs.name, sizeof(cs.name) - 1);
	}
	suite_sanitize_name(cs.name);
	if (cs.set.duration_s > 0 && cs.set.timeout_s <= cs.set.duration_s + SUITE_DURATION_SLACK_S) {
		suite_case_free(&cs);
		return suite_fail(c, tbl->line, "duration_s", "a case of duration_s = %lld needs timeout_s above %lld (it is %lld)",
			    (long long)cs.set.duration_s, (long long)(cs.set.duration_s + SUITE_DURATION_SLACK_S),
			    (long long)cs.set.timeout_s);
	}
	if (strchr("=+-@", cs.name[0])) {
		suite_case_free(&cs);
		return suite_fail(c, name ? name->line : tbl->line, "name", "'%s': a case name may not start with =, +, - or @ "
			    "(a spreadsheet would read it as a formula)", cs.name);
	}
	if (strcmp(cs.name, ".") == 0 || strcmp(cs.name, "..") == 0) {
		suite_case_free(&cs);
		return suite_fail(c, name ? name->line : tbl->line, "name", "'%s' cannot name a case: it names a folder "
			    "(case names become file names)", cs.name);
	}

	const struct opt_desc *d;
	for (size_t i = 0; (d = experiment_opt_at(mech, (unsigned)cs.variant, i)); i++) {
		char val[OPT_STR_MAX];
		opt_format(d, cs.mech_cfg, val, sizeof(val));
		append(cs.params, sizeof(cs.params), "%s%s=%s", cs.params[0] ? " " : "", d->name, val);
	}
	if (parse_load(c, tbl, &cs) || parse_pmu(c, tbl, &cs) || suite_push_case(c, s, &cs)) {
		suite_case_free(&cs);
		return -1;
	}
	return 0;
}

int suite_parse_case(struct suite_ctx *c, struct suite *s, const struct tval *tbl, const struct case_settings *defaults)
{
	if (tbl->type != TV_TABLE)
		return suite_fail(c, tbl->line, "case", "expected [[case]] tables, got %s", tval_type_name(tbl->type));
	const struct tval *mv = tval_get(tbl, "mechanism");
	if (!mv)
		return suite_fail(c, tbl->line, "mechanism", "every case needs a mechanism");
	if (mv->type != TV_STRING)
		return suite_fail(c, mv->line, "mechanism", "expected string, got %s", tval_type_name(mv->type));
	const struct mechanism_ops *mech = mechanism_find(mv->u.s);
	if (!mech) {
		char known[512] = "";
		for (size_t i = 0; mechanism_at(i); i++)
			append(known, sizeof(known), "%s%s", i ? ", " : "", mechanism_at(i)->name);
		return suite_fail(c, mv->line, "mechanism", "no mechanism '%s' (known: %s)", mv->u.s, known);
	}
	const struct tval *name = tval_get(tbl, "name");
	if (name && (name->type != TV_STRING || !name->u.s[0]))
		return suite_fail(c, name->line, "name", "expected a non-empty string");
	if (name && suite_has_control(name->u.s))
		return suite_fail(c, name->line, "name", "a case name holds no control characters");

	struct member *m = calloc(tbl->count + 1, sizeof(*m));
	size_t *pick = calloc(tbl->count + 1, sizeof(*pick));
	if (!m || !pick) {
		free(m);
		free(pick);
		return suite_fail(c, tbl->line, NULL, "out of memory");
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
			return suite_fail(c, v->line, v->key, "an empty list sweeps nothing");
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
		return suite_fail(c, widest ? widest->line : tbl->line, widest ? widest->key : "case",
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
