/* Placement of a mechanism's two sides, and the TSC check for one-way deltas. */
#include "placement.h"

#include <inttypes.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>

const char *const placement_names[] = { "split", "same", "free", NULL };

int placement_apply(struct mech_ctx *ctx, int placement, int *peer_cpu)
{
	if (placement == PLACE_FREE) {
		cpu_set_t all;
		CPU_ZERO(&all);
		for (int c = 0; c < CPU_SETSIZE; c++)
			CPU_SET(c, &all);
		/* The kernel trims the mask to the CPUs this process may use. */
		if (sched_setaffinity(0, sizeof(all), &all) != 0 ||
		    sched_getaffinity(0, sizeof(all), &all) != 0)
			return mech_why_errno(ctx, BENCH_FAIL, "cannot unpin the main thread");
		*peer_cpu = -1;
		report_kv(ctx->report, "placement", "free: main and peer unpinned, %d CPUs allowed",
			  CPU_COUNT(&all));
		return BENCH_OK;
	}
	*peer_cpu = placement == PLACE_SAME ? ctx->cpu : ctx->peer_cpu;
	report_kv(ctx->report, "placement", "%s: main on CPU %d, peer on CPU %d (-1: unpinned)",
		  placement_names[placement], ctx->cpu, *peer_cpu);
	return BENCH_OK;
}

/* The worst over the pairs checked, and the pair that showed it. */
struct sync_worst {
	struct tsc_sync_result r;
	int back_a, back_b;
};

/* Check one pair of CPUs; keeps the worst result seen in *w. */
static int sync_pair(struct mech_ctx *ctx, int a, int b, struct sync_worst *w)
{
	struct tsc_sync_result r;
	char why[200];

	if (tsc_sync_check(a, b, PLACEMENT_SYNC_ROUNDS, &r, why, sizeof(why)) != 0)
		return mech_why(ctx, BENCH_FAIL, "TSC sync check CPUs %d/%d: %s", a, b, why);
	if (r.max_backwards_cycles > w->r.max_backwards_cycles) {
		w->r.max_backwards_cycles = r.max_backwards_cycles;
		w->back_a = a;
		w->back_b = b;
	}
	if (r.min_rtt_cycles > w->r.min_rtt_cycles)
		w->r.min_rtt_cycles = r.min_rtt_cycles;
	w->r.rounds += r.rounds;
	w->r.ok = w->r.ok && r.ok;
	return BENCH_OK;
}

int placement_tsc_check(struct mech_ctx *ctx, int main_cpu, int peer_cpu)
{
	struct sync_worst w = { .r.ok = true, .back_a = main_cpu, .back_b = peer_cpu };
	char cpus[64];
	int rc = BENCH_OK;

	if (peer_cpu < 0)
		peer_cpu = main_cpu;   /* the peer inherits main's affinity */
	if (main_cpu >= 0 && main_cpu == peer_cpu) {
		report_kv(ctx->report, "tsc_sync", "not needed: both sides on CPU %d", main_cpu);
		return BENCH_OK;
	}
	if (main_cpu >= 0) {
		snprintf(cpus, sizeof(cpus), "CPUs %d and %d", main_cpu, peer_cpu);
		rc = sync_pair(ctx, main_cpu, peer_cpu, &w);
	} else {
		cpu_set_t set;
		int first = -1, others = 0;
		if (sched_getaffinity(0, sizeof(set), &set) != 0)
			return mech_why_errno(ctx, BENCH_FAIL, "sched_getaffinity");
		for (int c = 0; c < CPU_SETSIZE && rc == BENCH_OK; c++) {
			if (!CPU_ISSET(c, &set))
				continue;
			if (first < 0) {
				first = c;
			} else {
				rc = sync_pair(ctx, first, c, &w);
				others++;
			}
		}
		if (rc == BENCH_OK && others == 0) {
			report_kv(ctx->report, "tsc_sync", "not needed: only CPU %d allowed", first);
			return BENCH_OK;
		}
		snprintf(cpus, sizeof(cpus), "CPU %d against %d other allowed CPUs", first, others);
	}
	if (rc != BENCH_OK)
		return rc;
	report_kv(ctx->report, "tsc_sync", "%s: %s, max backwards %" PRId64 " cycles, min round trip %"
		  PRIu64 " cycles, %u rounds", w.r.ok ? "ok" : "NOT SYNCHRONIZED", cpus,
		  w.r.max_backwards_cycles, w.r.min_rtt_cycles, w.r.rounds);
	if (!w.r.ok)
		return mech_why(ctx, BENCH_SKIP, "TSCs of CPUs %d and %d are not synchronized (%" PRId64
				" cycles backwards): one-way deltas would be wrong",
				w.back_a, w.back_b, w.r.max_backwards_cycles);
	return BENCH_OK;
}
