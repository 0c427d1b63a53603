#include "papers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"

const char *papers_placement(void)
{
	const char *p = getenv("GAPBENCH_PLACEMENT");
	if (p && p[0])
		return p;
	/* a guest not started by --vm (gbvm's tests, a lab's own qemu): the CPUID hypervisor leaf tells TCG */
	char vendor[16];
	if (platform_hypervisor(vendor, sizeof(vendor)) && strcmp(vendor, "TCGTCGTCGTCG") == 0)
		return PAPERS_PLACEMENT_TCG_DETECTED;
	return "native";
}

bool papers_placement_emulated(const char *placement)
{
	return strstr(placement, "tcg") != NULL;
}

static double chosen_ns(enum ref_stat which, const struct summary *ns)
{
	switch (which) {
	case REF_P50: return (double)ns->p50;
	case REF_MIN: return (double)ns->min;
	case REF_MAX: return (double)ns->max;
	case REF_P99: return (double)ns->p99;
	default: return ns->mean;
	}
}

void papers_fill_row(const struct refs *refs, uint64_t tsc_khz, const struct case_spec *cs,
		     const struct case_stats *stats, struct summary_row *row)
{
	snprintf(row->stand_in, sizeof(row->stand_in), "%s", cs->set.stand_in);
	if (!cs->set.reference[0])
		return;
	snprintf(row->reference, sizeof(row->reference), "%s", cs->set.reference);
	snprintf(row->ref_stat, sizeof(row->ref_stat), "%s", ref_stat_names[cs->set.ref_stat]);
	const struct ref_row *ref = refs_find(refs, cs->set.reference);
	if (!ref)
		return;
	snprintf(row->ref_value, sizeof(row->ref_value), "%g", ref->value);
	snprintf(row->ref_unit, sizeof(row->ref_unit), "%s", ref->unit);
	if (!stats)
		return;
	double ns = chosen_ns(cs->set.ref_stat, &stats->ns);
	double cycles = ns * (double)tsc_khz / 1e6;
	double here, ratio, ratio_time;
	if (!refs_in_unit(ref, ns, cycles, &here) || !refs_compare(ref, ns, cycles, &ratio, &ratio_time))
		return;
	if (papers_placement_emulated(row->placement)) {
		row->ref_not_compared = true;
		return;
	}
	snprintf(row->ref_here, sizeof(row->ref_here), "%.6g", here);
	snprintf(row->ref_ratio, sizeof(row->ref_ratio), "%.3f", ratio);
	if (ratio_time > 0)
		snprintf(row->ref_ratio_time, sizeof(row->ref_ratio_time), "%.3f", ratio_time);
}
