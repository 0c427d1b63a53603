/*
 * A cyclictest-like periodic loop in the guest (needs rt_timer.h's handler
 * installed): releases are at first + k * period (absolute); each period
 * the loop arms the next release through a pluggable hook, waits
 * (HLT) until the timer handler has seen event k, and records
 *
 *     latency = guest TSC at handler entry - release        (cycles)
 *
 * An event that arrives before its release (a synthetic one injected at
 * once) is waited out by polling the TSC to the release, counted `early`,
 * and its latency is from the release to the poll's end. A period whose
 * wake-up came after the next release is counted `missed` (it overran);
 * every period is recorded either way, so recorded == periods. With
 * skip_missed, releases already past when the next one is armed (after a
 * wake-up later than a whole period) are skipped and counted `skipped`, as
 * cyclictest does: one
 * late wake-up is one bad sample, not a lag carried by every later one. An
 * event whose interrupt is lost (the watchdog, below) is counted `lost`.
 */
#pragma once
#include <stdint.h>

struct rt_cyclic_result {
	uint64_t periods;        /* events waited for and recorded */
	uint64_t missed;         /* of those, woke at or after the next release */
	uint64_t early;          /* events that arrived before their release */
	uint64_t max_cycles;
	uint64_t lost;           /* events raised whose interrupt never came (found by the watchdog) */
	uint64_t skipped;        /* releases already past when armed: not waited for */
};

struct rt_cyclic {
	uint64_t period_cycles;
	/* Nonzero (with rt_timer_watchdog_start done): before each HLT the LAPIC timer is armed this
	   far ahead; an event the counter shows raised but whose interrupt never came is then taken
	   at the watchdog's wake, stamped then, and counted `lost`. */
	uint64_t watchdog_cycles;
	/* Skip releases already past (not where the next release is armed ahead of the loop, as a
	   deferred arming that already handed it to the host). */
	int skip_missed;
	/* Arm release `deadline` of period k (k from 1). Returns the deadline actually armed. */
	uint64_t (*arm)(void *arg, uint64_t deadline, uint64_t k);
	/* Optional: the release path, right after the handler (interrupts off on entry). Returns the
	   latency to record instead of the handler's (e.g. end of the path - release), or 0: keep it. */
	uint64_t (*released)(void *arg, uint64_t deadline, uint64_t entry_tsc);
	/* Record one period's latency; returns nonzero to end the loop. */
	int (*record)(void *arg, uint64_t latency_cycles, const struct rt_cyclic_result *so_far);
	void *arg;
};

/* Run from release `first` on, with interrupts off between waits. */
void rt_cyclic_run(const struct rt_cyclic *c, uint64_t first, struct rt_cyclic_result *r);
