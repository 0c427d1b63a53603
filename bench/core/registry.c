/*
 * Self-registration of mechanisms and load generators. Constructors run
 * before main(), so registration only records and checks what needs no
 * context (ABI, complete tables); registry_seal() checks the rest once the
 * harness's case keys are known. Problems are reported and the entry is
 * refused.
 */
#include "registry.h"

#include <stdio.h>
#include <string.h>

#define REGISTRY_MAX 64

static const struct mechanism_ops *mechs[REGISTRY_MAX];
static size_t n_mechs;
static const struct loadgen_ops *loads[REGISTRY_MAX];
static size_t n_loads;

static bool table_ok(const char *owner, const struct opt_desc *opts)
{
	for (const struct opt_desc *d = opts; d && d->name; d++) {
		if (!d->help || !d->def || (d->type == OPT_ENUM && !d->choices)) {
			fprintf(stderr, "gapbench: %s: option %s lacks help, default or choices\n",
				owner, d->name);
			return false;
		}
	}
	return true;
}

/* Every experiment has a measure (its own or the mechanism's) and complete option tables. */
static bool variants_ok(const struct mechanism_ops *ops)
{
	if (!ops->variants || !ops->variants[0].name)
		return false;
	for (const struct variant_desc *v = ops->variants; v->name; v++) {
		if (!v->help || (!v->measure && !ops->measure))
			return false;
		/* a variant that needs a module names it, and only such a variant names one */
		if (!((ops->flags | v->flags) & MECH_NEEDS_KMOD) != !v->kmod)
			return false;
		char owner[160];
		snprintf(owner, sizeof(owner), "%s/%s", ops->name, v->name);
		if (!table_ok(owner, v->opts))
			return false;
	}
	return true;
}

void mechanism_register(const struct mechanism_ops *ops)
{
	if (ops->abi_version != MECHANISM_ABI_VERSION) {
		fprintf(stderr, "gapbench: mechanism %s has ABI %u, expected %u: ignored\n",
			ops->name, ops->abi_version, MECHANISM_ABI_VERSION);
		return;
	}
	if (!variants_ok(ops) || !table_ok(ops->name, ops->opts)) {
		fprintf(stderr, "gapbench: mechanism %s is incomplete: ignored\n", ops->name);
		return;
	}
	if (mechanism_find(ops->name) || n_mechs >= REGISTRY_MAX) {
		fprintf(stderr, "gapbench: mechanism %s registered twice or too many: ignored\n", ops->name);
		return;
	}
	/* keep sorted by name: listing and iteration are stable */
	size_t i = n_mechs;
	while (i > 0 && strcmp(mechs[i - 1]->name, ops->name) > 0) {
		mechs[i] = mechs[i - 1];
		i--;
	}
	mechs[i] = ops;
	n_mechs++;
}

static bool is_case_key(const char *name, const struct opt_desc *case_keys, const char *const *special)
{
	if (opt_find(case_keys, name))
		return true;
	for (size_t i = 0; special && special[i]; i++)
		if (strcmp(special[i], name) == 0)
			return true;
	return false;
}

/* NULL when the table is fine, else the first option that collides. */
static const char *colliding_opt(const struct opt_desc *t, const struct opt_desc *case_keys,
				 const char *const *special, const struct opt_desc *also)
{
	for (const struct opt_desc *d = t; d && d->name; d++)
		if (is_case_key(d->name, case_keys, special) || (also && opt_find(also, d->name)))
			return d->name;
	return NULL;
}

static bool mechanism_sealable(const struct mechanism_ops *m, const struct opt_desc *case_keys,
			       const char *const *special)
{
	const char *bad = colliding_opt(m->opts, case_keys, special, NULL);
	if (bad) {
		fprintf(stderr, "gapbench: mechanism %s: option '%s' has the name of a case key: ignored\n",
			m->name, bad);
		return false;
	}
	for (const struct variant_desc *v = m->variants; v->name; v++) {
		bad = colliding_opt(v->opts, case_keys, special, m->opts);
		if (bad) {
			fprintf(stderr, "gapbench: mechanism %s: variant %s: option '%s' has the name of a case key "
				"or of an option of the whole mechanism: ignored\n", m->name, v->name, bad);
			return false;
		}
	}
	return true;
}

unsigned registry_seal(const struct opt_desc *case_keys, const char *const *special_keys)
{
	static bool sealed;
	if (sealed)
		return 0;
	sealed = true;
	unsigned refused = 0;
	size_t keep = 0;
	for (size_t i = 0; i < n_mechs; i++) {
		if (mechanism_sealable(mechs[i], case_keys, special_keys))
			mechs[keep++] = mechs[i];
		else
			refused++;
	}
	n_mechs = keep;
	/* load generators' options live in their own table (load_opts): nothing can collide */
	return refused;
}

const struct mechanism_ops *mechanism_find(const char *name)
{
	for (size_t i = 0; i < n_mechs; i++)
		if (strcmp(mechs[i]->name, name) == 0)
			return mechs[i];
	return NULL;
}

const struct mechanism_ops *mechanism_at(size_t i)
{
	return i < n_mechs ? mechs[i] : NULL;
}

int mechanism_variant_index(const struct mechanism_ops *ops, const char *name)
{
	for (int i = 0; ops->variants[i].name; i++)
		if (strcmp(ops->variants[i].name, name) == 0)
			return i;
	return -1;
}

struct experiment_ops experiment_ops(const struct mechanism_ops *m, unsigned variant)
{
	const struct variant_desc *v = &m->variants[variant];
	struct experiment_ops o = {
		.probe = v->probe ? v->probe : m->probe,
		.setup = v->setup ? v->setup : m->setup,
		.measure = v->measure ? v->measure : m->measure,
		.teardown = v->teardown ? v->teardown : m->teardown,
	};
	return o;
}

unsigned experiment_flags(const struct mechanism_ops *m, unsigned variant)
{
	return m->flags | m->variants[variant].flags;
}

const char *experiment_kmod(const struct mechanism_ops *m, unsigned variant)
{
	return (experiment_flags(m, variant) & MECH_NEEDS_KMOD) ? m->variants[variant].kmod : NULL;
}

enum sample_unit experiment_unit(const struct mechanism_ops *m, unsigned variant)
{
	enum sample_unit u = m->variants[variant].unit;
	if (u == SAMPLE_UNIT_DEFAULT)
		u = m->unit;
	return u == SAMPLE_NS ? SAMPLE_NS : SAMPLE_CYCLES;
}

const struct opt_desc *experiment_opt_find(const struct mechanism_ops *m, unsigned variant, const char *name)
{
	const struct opt_desc *d = opt_find(m->variants[variant].opts, name);
	return d ? d : opt_find(m->opts, name);
}

const struct opt_desc *experiment_opt_at(const struct mechanism_ops *m, unsigned variant, size_t i)
{
	size_t n = opt_count(m->opts);
	if (i < n)
		return &m->opts[i];
	i -= n;
	return i < opt_count(m->variants[variant].opts) ? &m->variants[variant].opts[i] : NULL;
}

void loadgen_register(const struct loadgen_ops *ops)
{
	if (ops->abi_version != LOADGEN_ABI_VERSION || !ops->start || !ops->stop ||
	    !table_ok(ops->name, ops->opts)) {
		fprintf(stderr, "gapbench: load generator %s is incomplete or has the wrong ABI: ignored\n",
			ops->name);
		return;
	}
	if (loadgen_find(ops->name) || n_loads >= REGISTRY_MAX) {
		fprintf(stderr, "gapbench: load generator %s registered twice or too many: ignored\n",
			ops->name);
		return;
	}
	size_t i = n_loads;
	while (i > 0 && strcmp(loads[i - 1]->name, ops->name) > 0) {
		loads[i] = loads[i - 1];
		i--;
	}
	loads[i] = ops;
	n_loads++;
}

const struct loadgen_ops *loadgen_find(const char *name)
{
	for (size_t i = 0; i < n_loads; i++)
		if (strcmp(loads[i]->name, name) == 0)
			return loads[i];
	return NULL;
}

const struct loadgen_ops *loadgen_at(size_t i)
{
	return i < n_loads ? loads[i] : NULL;
}
