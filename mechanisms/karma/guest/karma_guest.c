/*
 * The karma guest: Karma's real-time task (cyclictest with its delay
 * reported to the VMM by hypercall, as the paper's modified cyclictest) on
 * the guest timer runtime, and the loads another VM runs beside it.
 *
 * boot.program KARMA_PROG_CYCLIC: calibrate the exit + entry round trip
 * (KARMA_HC_CALIB), then the periodic loop of rt_cyclic.h with the timer
 * armed as boot.arg[KARMA_ARG_MODE] says (karma_abi.h). Latencies go to
 * the host in batches (KARMA_HC_FLUSH) until the host answers stop.
 * Stops: 0 done, 2 no x2APIC, 3 no TSC-deadline timer (LAPIC mode).
 */
#include "karma_abi.h"
#include "karma_deferred.h"
#include "rt.h"
#include "rt_cyclic.h"
#include "rt_timer.h"

#define CALIB_ROUNDS 127u

struct karma_guest {
	uint64_t mode, period, near_every, near_cycles, release_cycles, dev_work_cycles, tpr, batch;
	uint64_t n;                       /* latencies buffered */
	uint64_t hc_arms;
	volatile uint64_t dev_irqs, dev_in_window, held_back;
	volatile int in_window;
};
static struct karma_guest g;

static struct karma_shared *shared(void)
{
	return (struct karma_shared *)(uintptr_t)KARMA_SHARED_GPA;
}

static void spin_cycles(uint64_t cycles)
{
	uint64_t t0 = rt_tsc_start();
	while (rt_tsc_start() - t0 < cycles)
		__asm__ volatile("pause");
}

/* A lower-priority device's handler: does its work with interrupts off, as a driver's top half. */
__attribute__((interrupt)) static void dev_handler(void *frame)
{
	(void)frame;
	g.dev_irqs++;
	if (g.in_window)
		g.dev_in_window++;
	spin_cycles(g.dev_work_cycles);
	rt_x2apic_write(RT_X2APIC_EOI, 0);
}

static void hc_arm(uint64_t deadline)
{
	struct kvm_mailbox *mb = rt_mailbox();
	mb->arg[0] = deadline;
	mb->arg[1] = rt_tsc_start();
	rt_hypercall(KARMA_HC_ARM, 0);
	g.hc_arms++;
}

static uint64_t arm(void *arg, uint64_t deadline, uint64_t k)
{
	(void)arg;
	uint64_t stop = shared()->stop_arming_after;
	if (stop && k > stop)
		return deadline;   /* fault injection: no timer armed, no event will come */
	if (g.near_every && k % g.near_every == 0)
		deadline = rt_tsc_start() + g.near_cycles;   /* a close timeout, as Linux sometimes asks */
	switch (g.mode) {
	case KARMA_TIMER_LAPIC:
		rt_tsc_deadline_arm(deadline);
		break;
	case KARMA_TIMER_PV:
		hc_arm(deadline);
		break;
	case KARMA_TIMER_PV_DEFERRED:
		if (k == 1)
			hc_arm(deadline);
		if (karma_deferred_publish(&shared()->next_deadline, deadline + g.period))
			hc_arm(deadline + g.period);
		break;
	}
	return deadline;
}

/*
 * The release path (Figure 7): work with interrupts on, as the woken task's
 * path to running. With TPR raised (the handler did it) device interrupts
 * wait in the IRR until it is lowered at the end. Records end - release.
 */
static uint64_t released(void *arg, uint64_t deadline, uint64_t entry_tsc)
{
	(void)arg;
	struct karma_shared *sh = shared();
	if (entry_tsc - deadline > sh->entry_max_cycles)
		sh->entry_max_cycles = entry_tsc - deadline;
	g.in_window = 1;
	rt_irq_enable();
	spin_cycles(g.release_cycles);
	rt_irq_disable();
	uint64_t end = rt_tsc_start();
	g.in_window = 0;
	if (g.tpr) {
		if (rt_x2apic_pending(KARMA_DEV_VECTOR))
			g.held_back++;
		rt_tpr_set_class(0);
		__asm__ volatile("sti\n\tnop\n\tnop\n\tcli" : : : "memory");   /* held-back ones come in now */
	}
	return end - deadline;
}

static int flush(const struct rt_cyclic_result *r)
{
	struct kvm_mailbox *mb = rt_mailbox();
	mb->arg[KARMA_FLUSH_N] = g.n;
	mb->arg[KARMA_FLUSH_PERIODS] = r->periods;
	mb->arg[KARMA_FLUSH_MISSED] = r->missed;
	mb->arg[KARMA_FLUSH_EARLY] = r->early;
	mb->arg[KARMA_FLUSH_DEV_IRQS] = g.dev_irqs;
	mb->arg[KARMA_FLUSH_DEV_IN_WINDOW] = g.dev_in_window;
	mb->arg[KARMA_FLUSH_HELD_BACK] = g.held_back;
	mb->arg[KARMA_FLUSH_HC_ARMS] = g.hc_arms;
	shared()->lost = r->lost;
	shared()->skipped = r->skipped;
	mb->ret[0] = 0;
	rt_hypercall(KARMA_HC_FLUSH, 0);
	g.n = 0;
	return mb->ret[0] != 0;
}

static int record(void *arg, uint64_t latency_cycles, const struct rt_cyclic_result *so_far)
{
	(void)arg;
	((uint64_t *)(uintptr_t)KARMA_SAMPLES_GPA)[g.n++] = latency_cycles;
	return g.n >= g.batch ? flush(so_far) : 0;
}

/* The exit + entry round trip of an empty hypercall, in guest cycles: min and median. */
static void calibrate(void)
{
	static uint64_t v[CALIB_ROUNDS];
	for (unsigned i = 0; i < 16; i++)
		rt_hypercall(KARMA_HC_NOP, 0);
	for (unsigned i = 0; i < CALIB_ROUNDS; i++) {
		uint64_t t0 = rt_tsc_start();
		rt_hypercall(KARMA_HC_NOP, 0);
		v[i] = rt_tsc_end() - t0;
	}
	for (unsigned i = 1; i < CALIB_ROUNDS; i++)
		for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint64_t t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	struct kvm_mailbox *mb = rt_mailbox();
	mb->arg[0] = v[0];
	mb->arg[1] = v[CALIB_ROUNDS / 2];
	mb->ret[0] = 0;
	rt_hypercall(KARMA_HC_CALIB, 0);
	if (mb->ret[0] && mb->ret[0] < g.batch)
		g.batch = mb->ret[0];   /* the host wants fewer than a full batch */
}

__attribute__((noreturn)) static void cyclic(const struct kvm_boot_info *boot)
{
	g.mode = boot->arg[KARMA_ARG_MODE];
	g.period = boot->arg[KARMA_ARG_PERIOD_CYCLES];
	g.near_every = boot->arg[KARMA_ARG_NEAR_EVERY];
	g.near_cycles = boot->arg[KARMA_ARG_NEAR_CYCLES];
	g.release_cycles = boot->arg[KARMA_ARG_RELEASE_CYCLES];
	g.dev_work_cycles = boot->arg[KARMA_ARG_DEV_WORK_CYCLES];
	g.tpr = boot->arg[KARMA_ARG_TPR];
	g.batch = boot->arg[KARMA_ARG_BATCH];
	uint64_t watchdog = 0;
	if (g.batch == 0 || g.batch > KARMA_BATCH_MAX)
		g.batch = KARMA_BATCH_MAX;
	if (rt_irq_init() != 0)
		rt_stop(2);
	rt_timer_install();
	if (g.mode == KARMA_TIMER_LAPIC) {
		if (!rt_tsc_deadline_supported())
			rt_stop(3);
		rt_tsc_deadline_start();
	} else {
		rt_timer_count_from(&shared()->fired);
		if (rt_timer_watchdog_start() == 0)
			watchdog = 8 * g.period;
	}
	rt_idt_set(KARMA_DEV_VECTOR, (uintptr_t)dev_handler);
	if (g.tpr)
		rt_timer_raise_tpr_on_entry(KARMA_RT_TPR_CLASS);
	calibrate();
	struct rt_cyclic c = {
		.period_cycles = g.period, .watchdog_cycles = watchdog, .arm = arm, .record = record,
		.skip_missed = g.mode != KARMA_TIMER_PV_DEFERRED,   /* deferred: the next release is the host's already */
		.released = g.release_cycles || g.tpr ? released : NULL,
	};
	struct rt_cyclic_result r = { 0 };
	rt_cyclic_run(&c, rt_tsc_start() + g.period, &r);
	rt_stop(0);
}

/* Another VM's load (Figure 8): a cache line a step over `bytes`, forever. */
__attribute__((noreturn)) static void load_mem(uint64_t bytes)
{
	volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)KARMA_LOAD_GPA;
	for (;;)
		for (uint64_t i = 0; i < bytes; i += 64)
			p[i]++;
}

void guest_main(const struct kvm_boot_info *boot)
{
	switch (boot->program) {
	case KARMA_PROG_CYCLIC:
		cyclic(boot);
	case KARMA_PROG_LOAD_SPIN:
		for (;;)
			__asm__ volatile("pause");
	case KARMA_PROG_LOAD_MEM:
		load_mem(boot->arg[0]);
	}
	rt_stop(1);
}
