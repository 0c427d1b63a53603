/*
 * Where a two-sided mechanism puts its measuring thread and its peer, and
 * the TSC synchronization check that one-way cross-CPU deltas need.
 */
#pragma once
#include "mechanism.h"

/*
 * The values of a mechanism's `placement` option (names: placement_names):
 *   split  main on ctx->cpu, peer on ctx->peer_cpu
 *   same   both on ctx->cpu
 *   free   neither pinned: the kernel places both (like perf bench sched pipe)
 */
enum placement { PLACE_SPLIT, PLACE_SAME, PLACE_FREE };
extern const char *const placement_names[];   /* {"split", "same", "free", NULL} */

/*
 * Apply the placement and report it ("placement"). Sets *peer_cpu to the
 * CPU to pin the peer to; -1 means unpinned, so the peer keeps the affinity
 * it inherits from main. "free" unpins main as well. Returns BENCH_OK or
 * BENCH_FAIL.
 */
int placement_apply(struct mech_ctx *ctx, int placement, int *peer_cpu);

#define PLACEMENT_SYNC_ROUNDS 50000

/*
 * Before one-way deltas between main's TSC and a peer's: check that the
 * TSCs of main_cpu and peer_cpu are synchronized (peer_cpu -1: the peer
 * inherits main's CPU). main_cpu -1 means the sides are not pinned: check
 * every CPU the calling thread may run on against the first. Reports
 * "tsc_sync". Returns BENCH_OK (also when both sides share a CPU),
 * BENCH_SKIP when the TSCs are not synchronized, BENCH_FAIL when the check
 * itself failed.
 */
int placement_tsc_check(struct mech_ctx *ctx, int main_cpu, int peer_cpu);
