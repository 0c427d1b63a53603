/*
 * Self-registration of mechanisms and load generators. Constructors run
 * before main(), so registration only records; problems (duplicate names,
 * ABI mismatch, malformed tables) are reported and the entry is refused.
 */
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen.h"
#include "mechanism.h"

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

void mechanism_register(const struct mechanism_ops *ops)
{
	if (ops->abi_version != MECHANISM_ABI_VERSION) {
		fprintf(stderr, "gapbench: mechanism %s has ABI %u, expected %u: ignored\n",
			ops->name, ops->abi_version, MECHANISM_ABI_VERSION);
		return;
	}
	if (!ops->variants || !ops->variants[0].name || !ops->measure || !table_ok(ops->name, ops->opts)) {
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

static int vwhy(char *buf, size_t len, int rc, bool with_errno, const char *fmt, va_list ap) BENCH_PRINTF(5, 0);
static int vwhy(char *buf, size_t len, int rc, bool with_errno, const char *fmt, va_list ap)
{
	int saved = errno;
	int w = vsnprintf(buf, len, fmt, ap);
	if (with_errno && w >= 0 && (size_t)w < len)
		snprintf(buf + w, len - (size_t)w, ": %s", strerror(saved));
	return rc;
}

int mech_why(struct mech_ctx *ctx, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwhy(ctx->why, sizeof(ctx->why), rc, false, fmt, ap);
	va_end(ap);
	return rc;
}

int mech_why_errno(struct mech_ctx *ctx, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwhy(ctx->why, sizeof(ctx->why), rc, true, fmt, ap);
	va_end(ap);
	return rc;
}

int load_why(struct load_ctx *ctx, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwhy(ctx->why, sizeof(ctx->why), rc, false, fmt, ap);
	va_end(ap);
	return rc;
}
