#include "reporter.h"

#include <errno.h>
#include <stdio.h>
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

int reporters_case_done(struct reporter_set *set, const struct run_info *run, struct case_record *rec)
{
	int rc = 0;
	for (int files = 1; files >= 0; files--)
		for (size_t i = 0; i < set->n; i++) {
			struct reporter *rep = &set->r[i];
			if (rep->ops->writes_files == (files == 1) && rep->ops->case_done &&
			    rep->ops->case_done(rep, run, rec) != 0)
				rc = -1;
		}
	return rc;
}

static int run_end_one(struct reporter *rep, const struct run_info *run, struct run_totals *totals)
{
	return rep->ops->run_end ? rep->ops->run_end(rep, run, totals) : 0;
}

int reporters_run_end(struct reporter_set *set, const struct run_info *run, struct run_totals *totals)
{
	int rc = 0;
	for (size_t i = 0; i < set->n; i++)
		if (set->r[i].ops->writes_files && run_end_one(&set->r[i], run, totals) != 0)
			rc = -1;
	for (size_t i = set->n; i-- > 0;)
		if (!set->r[i].ops->writes_files && run_end_one(&set->r[i], run, totals) != 0)
			rc = -1;
	return rc;
}

static bool disk_full_errno(int err)
{
	return err == ENOSPC || err == EDQUOT;
}

void case_output_failed(struct case_record *rec, const char *what, int err)
{
	struct summary_row *row = rec->row;
	size_t used = 0;   /* a case that failed already keeps why, first */
	if (rec->status == CS_OK || rec->status == CS_SKIP)
		used = (size_t)snprintf(row->status, sizeof(row->status), "fail: ");
	else
		used = strlen(row->status);
	if (used < sizeof(row->status))
		snprintf(row->status + used, sizeof(row->status) - used, "%soutput: cannot write %s: %s",
			 rec->status == CS_OK || rec->status == CS_SKIP ? "" : "; ", what, strerror(err));
	rec->status = CS_FAIL;
	rec->output_failed = true;
	if (disk_full_errno(err))
		rec->disk_full = true;
}

void run_output_failed(struct run_totals *t, const char *what, int err)
{
	size_t used = strlen(t->output_error);
	snprintf(t->output_error + used, sizeof(t->output_error) - used, "%scannot write %s: %s", used ? "; " : "",
		 what, strerror(err));
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
