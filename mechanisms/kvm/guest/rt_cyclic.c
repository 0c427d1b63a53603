/* The guest's cyclictest-like loop (rt_cyclic.h). */
#include "rt_cyclic.h"

#include "rt_timer.h"

void rt_cyclic_run(const struct rt_cyclic *c, uint64_t first, struct rt_cyclic_result *r)
{
	uint64_t deadline = c->arm(c->arg, first, 1);
	for (uint64_t k = 1;; k++) {
		while (rt_timer.count < k) {
			if (c->watchdog_cycles)
				rt_tsc_deadline_arm(rt_tsc_start() + c->watchdog_cycles);
			rt_irq_wait();
			uint64_t raised = rt_timer_raised();
			if (c->watchdog_cycles && rt_timer.count < k && raised >= k) {
				r->lost++;
				rt_timer.count = raised;
				rt_timer.tsc = rt_tsc_start();
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
		deadline = c->arm(c->arg, deadline + c->period_cycles, k + 1);
	}
}
