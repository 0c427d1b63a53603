#include "reporter.h"

#include <stdlib.h>
#include <string.h>

int reporters_add(struct reporter_set *set, const struct reporter_ops *ops, const char *path)
{
	if (set->n >= REPORTERS_MAX)
		return -1;
	struct reporter *rep = &set->r[set->n];
	memset(rep, 0, sizeof(*rep));
	rep->ops = ops;
	rep->path = path;
	if (ops->priv_size) {
		rep->priv = calloc(1, ops->priv_size);
		if (!rep->priv)
			return -1;
	}
	set->n++;
	return 0;
}

int reporters_run_start(struct reporter_set *set, const struct run_info *run)
{
	for (size_t i = 0; i < set->n; i++) {
		struct reporter *rep = &set->r[i];
		if (rep->ops->run_start && rep->ops->run_start(rep, run) != 0)
			return -1;
	}
	return 0;
}

void reporters_case_start(struct reporter_set *set, const struct run_info *run, size_t index,
			  const struct case_spec *cs)
{
	for (size_t i = 0; i < set->n; i++) {
		struct reporter *rep = &set->r[i];
		if (rep->ops->case_start)
			rep->ops->case_start(rep, run, index, cs);
	}
}

int reporters_case_done(struct reporter_set *set, const struct run_info *run, const struct case_record *rec)
{
	int rc = 0;
	for (size_t i = 0; i < set->n; i++) {
		struct reporter *rep = &set->r[i];
		if (rep->ops->case_done && rep->ops->case_done(rep, run, rec) != 0)
			rc = -1;
	}
	return rc;
}

int reporters_run_end(struct reporter_set *set, const struct run_info *run, const struct run_totals *totals)
{
	int rc = 0;
	for (size_t i = set->n; i-- > 0;) {
		struct reporter *rep = &set->r[i];
		if (rep->ops->run_end && rep->ops->run_end(rep, run, totals) != 0)
			rc = -1;
	}
	return rc;
}

void reporters_free(struct reporter_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		struct reporter *rep = &set->r[i];
		if (rep->ops->release)
			rep->ops->release(rep);
		free(rep->priv);
		rep->priv = NULL;
	}
	set->n = 0;
}
