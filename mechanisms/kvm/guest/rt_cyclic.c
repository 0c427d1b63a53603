/* The guest's cyclictest-like loop (rt_cyclic.h). */
#include "rt_cyclic.h"

#include "rt_timer.h"

void rt_cyclic_run(const struct rt_cyclic *c, uint64_t first, struct rt_cyclic_result *r)
{
	uint64_t deadline = c->arm(c->arg, first, 1);
	for (uint64_t k = 1;; k++) {
		/*
		 * The watchdog's time is fixed per period (watchdog_cycles after the
		 * deadline, or after the wait began if that is later), not pushed out
		 * at every wake: other interrupts (a device load) wake the HLT far
		 * more often than the watchdog's span. An event is credited as lost
		 * only once that time has passed, never at another interrupt's wake
		 * between the host's count and its MSI (its late MSI then found a
		 * period already over, and raised the TPR outside a release path).
		 */
		uint64_t start = rt_tsc_start();
		uint64_t wd = ((int64_t)(start - deadline) > 0 ? start : deadline) + c->watchdog_cycles;
		while (rt_timer.count < k) {
			if (c->watchdog_cycles)
				rt_tsc_deadline_arm(wd);
			rt_irq_wait();
			if (!c->watchdog_cycles || rt_timer.count >= k)
				continue;
			uint64_t now = rt_tsc_start();
			if ((int64_t)(now - wd) < 0)
				continue;
			if (rt_timer_raised() >= k) {
				r->lost++;
				rt_timer_credit_lost();
			} else {
				wd = now + c->watchdog_cycles;   /* nothing raised yet: wait again */
			}
		}
		uint64_t t = rt_timer.tsc;
		if ((int64_t)(t - deadline) < 0) {
			r->early++;
			do
				t = rt_tsc_start();
			while ((int64_t)(t - deadline) < 0);
		}
		uint64_t latency = t - deadline;
		if (c->released) {
			uint64_t path = c->released(c->arg, deadline, t);
			if (path)
				latency = path;
		}
		r->periods++;
		if (latency >= c->period_cycles)
			r->missed++;
		if (latency > r->max_cycles)
			r->max_cycles = latency;
		if (c->record(c->arg, latency, r))
			return;
		uint64_t next = deadline + c->period_cycles;
		uint64_t now = rt_tsc_start();
		while (c->skip_missed && (int64_t)(now - next) >= 0) {
			next += c->period_cycles;
			r->skipped++;
		}
		deadline = c->arm(c->arg, next, k + 1);
	}
}
