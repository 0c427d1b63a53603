/*
 * A case beside the paper's number: computed once per case, here, into its
 * summary row; every output (the papers table, summary.csv, the reports of
 * plots/) only shows these cells.
 */
#pragma once
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
 * (stats NULL), or a unit that is not a latency.
 */
void papers_fill_row(const struct refs *refs, uint64_t tsc_khz, const struct case_spec *cs,
		     const struct case_stats *stats, struct summary_row *row);
