#include "results.h"

#include <stdio.h>
#include <string.h>

#include "tsc.h"

int results_compute(const struct samples *s, uint64_t tsc_khz, uint64_t subtract_cycles,
		    struct case_stats *out, char *why, size_t why_len)
{
	if (s->stream)
		return results_compute_stream(s, tsc_khz, subtract_cycles, out, why, why_len);
	memset(out, 0, sizeof(*out));
	if (hist_init(&out->hist_ns, RESULTS_HIST_MAX_EXP) || hist_init(&out->hist_cycles, RESULTS_HIST_MAX_EXP + 4)) {
		results_free(out);
		snprintf(why, why_len, "out of memory for histograms");
		return -1;
	}
	struct welford w;
	welford_init(&w);
	bool cycles = s->unit == SAMPLE_CYCLES;
	out->subtracted_cycles = cycles ? subtract_cycles : 0;
	for (uint64_t i = 0; i < s->count; i++) {
		uint64_t v = s->v[i], c, ns;
		if (cycles) {
			c = v > out->subtracted_cycles ? v - out->subtracted_cycles : 0;
			ns = tsc_cycles_to_ns(c, tsc_khz);
		} else {
			ns = v;
			c = tsc_ns_to_cycles(v, tsc_khz);
		}
		hist_record(&out->hist_ns, ns);
		hist_record(&out->hist_cycles, c);
		/* Welford on exact cycles where we have them, converted at the end */
		welford_add(&w, cycles ? (double)c : (double)ns);
	}
	if (!hist_consistent(&out->hist_ns, s->count) || !hist_consistent(&out->hist_cycles, s->count)) {
		snprintf(why, why_len, "histogram count does not match the %llu samples",
			 (unsigned long long)s->count);
		results_free(out);
		return -1;
	}
	summary_from_hist(&out->ns, &out->hist_ns, &w);
	if (cycles && tsc_khz) {
		double ns_per_cycle = 1e6 / (double)tsc_khz;
		out->ns.mean = w.mean * ns_per_cycle;
		out->ns.stddev = welford_stddev(&w) * ns_per_cycle;
	}
	out->min_cycles = s->count ? out->hist_cycles.min : 0;
	out->p50_cycles = hist_percentile(&out->hist_cycles, 50.0, NULL);
	return 0;
}

void results_free(struct case_stats *st)
{
	hist_free(&st->hist_ns);
	hist_free(&st->hist_cycles);
}
