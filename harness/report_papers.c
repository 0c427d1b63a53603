/*
 * The papers reporter: after the run, the cases that name a paper's number,
 * this machine beside it in the paper's unit. It only shows the cells that
 * papers.c put into each summary row.
 */
#include <stdio.h>
#include <stdlib.h>

#include "papers.h"
#include "registry.h"
#include "reporter.h"

struct papers_line {
	char case_name[160];
	char ref_stat[8];
	char here[48], paper[48];   /* "VALUE UNIT" */
	char ratio[32], ratio_time[32];
	char reference[128];
	char stand_in[128];   /* the case's stand_in key: printed under the line */
};

struct papers {
	struct papers_line *lines;
	size_t n, cap;
	bool kvm_rows;   /* some line is a case that runs a KVM guest */
	bool emulated;   /* some line ran under TCG (papers_placement_emulated) */
};

static int papers_run_start(struct reporter *rep, const struct run_info *run)
{
	struct papers *p = rep->priv;
	p->cap = run->suite->n_cases;
	p->lines = calloc(p->cap ? p->cap : 1, sizeof(*p->lines));
	if (!p->lines) {
		console_printf("harness: out of memory\n");
		return -1;
	}
	return 0;
}

static int papers_case_done(struct reporter *rep, const struct run_info *run, struct case_record *rec)
{
	(void)run;
	struct papers *p = rep->priv;
	const struct summary_row *r = rec->row;
	if (!r->reference[0] || (!r->ref_ratio[0] && !r->ref_not_compared) || p->n >= p->cap)
		return 0;
	struct papers_line *l = &p->lines[p->n++];
	snprintf(l->case_name, sizeof(l->case_name), "%s", r->case_name);
	snprintf(l->ref_stat, sizeof(l->ref_stat), "%s", r->ref_stat);
	snprintf(l->paper, sizeof(l->paper), "%s %s", r->ref_value, r->ref_unit);
	snprintf(l->reference, sizeof(l->reference), "%s", r->reference);
	snprintf(l->stand_in, sizeof(l->stand_in), "%s", r->stand_in);
	if (r->ref_not_compared) {
		/* an emulated time is not a latency: the paper's number, and nothing of this run beside it */
		p->emulated = true;
		snprintf(l->here, sizeof(l->here), "tcg");
		snprintf(l->ratio, sizeof(l->ratio), "not compared");
		snprintf(l->ratio_time, sizeof(l->ratio_time), "-");
		return 0;
	}
	snprintf(l->here, sizeof(l->here), "%s %s", r->ref_here, r->ref_unit);
	snprintf(l->ratio, sizeof(l->ratio), "%s", r->ref_ratio);
	snprintf(l->ratio_time, sizeof(l->ratio_time), "%s", r->ref_ratio_time[0] ? r->ref_ratio_time : "-");
	if (experiment_flags(rec->spec->mech, (unsigned)rec->spec->variant) & MECH_NEEDS_KVM)
		p->kvm_rows = true;
	return 0;
}

static int papers_run_end(struct reporter *rep, const struct run_info *run, struct run_totals *t)
{
	(void)t;
	struct papers *p = rep->priv;
	if (p->n)
		console_printf("\nBeside the papers (this run's statistic / the paper's number):\n"
			"%-44s %-5s %14s %14s %10s %10s  %s\n", "case", "stat", "here", "paper",
			"here/paper", "in time", "reference");
	for (size_t i = 0; i < p->n; i++) {
		const struct papers_line *l = &p->lines[i];
		console_printf("%-44s %-5s %14s %14s %10s %10s  %s\n", l->case_name, l->ref_stat, l->here, l->paper,
			l->ratio, l->ratio_time, l->reference);
		if (l->stand_in[0])
			fprintf(stderr, "    stand-in, not the paper's mechanism: %s\n", l->stand_in);
	}
	if (p->emulated)
		console_printf("note: rows marked tcg ran in a VM under qemu's TCG (%s): every instruction is emulated, "
			"so their times are not latencies and are not compared with the papers\n",
			papers_placement());
	json_t *nested = json_object_get(json_object_get(run->platform, "kvm"), "guests_are_nested");
	if (p->kvm_rows && json_is_true(nested))
		console_printf("note: the KVM rows above are nested virtualization: this machine is itself a VM, so "
			"a guest's exits cost far more than on bare metal (meta.json: each case's kvm report)\n");
	return 0;
}

static void papers_release(struct reporter *rep)
{
	struct papers *p = rep->priv;
	free(p->lines);
}

const struct reporter_ops reporter_papers = {
	.name = "papers",
	.priv_size = sizeof(struct papers),
	.run_start = papers_run_start,
	.case_done = papers_case_done,
	.run_end = papers_run_end,
	.release = papers_release,
};
