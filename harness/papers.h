/*
 * A case beside the paper's number: computed once per case, here, into its
 * summary row; every output (the papers table, summary.csv, the reports of
 * plots/) only shows these cells.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "output.h"
#include "refs.h"
#include "results.h"
#include "suite.h"

/*
 * Fill row->stand_in (the case's key, always) and row->reference, ref_stat,
 * ref_value, ref_unit, ref_here, ref_ratio and ref_ratio_time for the case's
 * chosen statistic. Cells stay empty where they
 * cannot be known: no reference named, the id not in refs, no statistics
 * (stats NULL), or a unit that is not a latency. Under an emulated placement
 * (row->placement, TCG) the paper's number is named but this run's is not
 * set beside it: ref_here, ref_ratio and ref_ratio_time stay empty.
 */
/*
 * Where this harness runs, for the placement column: $GAPBENCH_PLACEMENT as
 * `harness run --vm` sets it inside its guest ("in vm (kvm)", "in vm (tcg:
 * emulated, not a latency)"); without it, PAPERS_PLACEMENT_TCG_DETECTED where
 * CPUID's hypervisor leaf says qemu's TCG, "native" otherwise.
 */
#define PAPERS_PLACEMENT_TCG_DETECTED "in vm (tcg: emulated, not a latency; found by CPUID)"
const char *papers_placement(void);
/* True for a placement whose times are emulated (qemu's TCG): never a latency, never beside a paper. */
bool papers_placement_emulated(const char *placement);

void papers_fill_row(const struct refs *refs, uint64_t tsc_khz, const struct case_spec *cs,
		     const struct case_stats *stats, struct summary_row *row);
