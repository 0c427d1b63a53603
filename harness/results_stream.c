/*
 * The parent's arithmetic on a streamed case (samples.h): the raw-unit
 * histogram the case filled becomes the ns and cycles histograms of a kept
 * case. Each bucket's count is carried at the bucket's midpoint (exact
 * buckets at their value), so a percentile is off by at most half a bucket
 * (<= 0.39%) beyond the histograms' own bound; min, max, mean and stddev
 * come from the exact running values.
 */
#include "results.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tsc.h"

struct convert {
	bool cycles;
	uint64_t subtract, tsc_khz;
};

static void to_both(const struct convert *cv, uint64_t raw, uint64_t *c, uint64_t *ns)
{
	if (cv->cycles) {
		*c = raw > cv->subtract ? raw - cv->subtract : 0;
		*ns = tsc_cycles_to_ns(*c, cv->tsc_khz);
	} else {
		*ns = raw;
		*c = tsc_ns_to_cycles(raw, cv->tsc_khz);
	}
}

int results_compute_stream(const struct samples *s, uint64_t tsc_khz, uint64_t subtract_cycles,
			   struct case_stats *out, char *why, size_t why_len)
{
	const struct samples_stream *st = s->stream;
	memset(out, 0, sizeof(*out));
	if (hist_init(&out->hist_ns, RESULTS_HIST_MAX_EXP) || hist_init(&out->hist_cycles, RESULTS_HIST_MAX_EXP + 4)) {
		results_free(out);
		snprintf(why, why_len, "out of memory for histograms");
		return -1;
	}
	struct convert cv = { .cycles = s->unit == SAMPLE_CYCLES, .tsc_khz = tsc_khz };
	cv.subtract = cv.cycles ? subtract_cycles : 0;
	out->subtracted_cycles = cv.subtract;
	uint64_t counted = st->overflow;
	for (uint32_t i = 0; i < st->nbuckets; i++) {
		if (!st->counts[i])
			continue;
		uint64_t lo, hi, c, ns;
		loghist_range(i, &lo, &hi);
		to_both(&cv, lo + (hi - lo) / 2, &c, &ns);
		hist_record_n(&out->hist_ns, ns, st->counts[i]);
		hist_record_n(&out->hist_cycles, c, st->counts[i]);
		counted += st->counts[i];
	}
	if (counted != s->count) {
		snprintf(why, why_len, "the streamed histogram holds %llu values, %llu were recorded",
			 (unsigned long long)counted, (unsigned long long)s->count);
		results_free(out);
		return -1;
	}
	if (s->count == 0) {
		summary_from_hist(&out->ns, &out->hist_ns, &(struct welford){ 0 });
		return 0;
	}
	uint64_t min_c, min_ns, max_c, max_ns;
	to_both(&cv, st->min, &min_c, &min_ns);
	to_both(&cv, st->max, &max_c, &max_ns);
	/* values above the raw histogram's range: at the exact maximum */
	hist_record_n(&out->hist_ns, max_ns, st->overflow);
	hist_record_n(&out->hist_cycles, max_c, st->overflow);
	out->hist_ns.min = min_ns;
	out->hist_ns.max = max_ns;
	out->hist_cycles.min = min_c;
	out->hist_cycles.max = max_c;

	/* mean and variance from sums around the first value, in the raw unit */
	double n = (double)s->count;
	double mean_raw = (double)st->shift + st->sum / n;
	double var_raw = s->count > 1 ? (st->sumsq - st->sum * st->sum / n) / (n - 1) : 0.0;
	if (var_raw < 0)
		var_raw = 0;
	double to_ns = cv.cycles ? (tsc_khz ? 1e6 / (double)tsc_khz : 0.0) : 1.0;
	double mean_unit = cv.cycles ? mean_raw - (double)cv.subtract : mean_raw;
	if (mean_unit < 0)
		mean_unit = 0;
	struct welford w = { .n = s->count, .mean = mean_unit * to_ns, .m2 = var_raw * to_ns * to_ns * (n - 1) };
	summary_from_hist(&out->ns, &out->hist_ns, &w);
	out->min_cycles = min_c;
	out->p50_cycles = hist_percentile(&out->hist_cycles, 50.0, NULL);
	return 0;
}
