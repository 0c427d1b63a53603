/*
 * Guest timer runtime: interrupts delivered to guest handlers, the local
 * APIC's TSC-deadline timer, and a cyclictest-like periodic loop. Usable by
 * every guest image that links rt_timer.c and rt_cyclic.c beside rt.c.
 *
 * Interrupts: rt_irq_init() turns the x2APIC on (TPR 0, software enabled,
 * spurious vector RT_SPURIOUS_VECTOR with a handler that takes no EOI).
 * rt_timer_install() puts the runtime's timer handler on RT_TIMER_VECTOR:
 * whoever raises that vector (the LAPIC timer, or the host through an
 * irqfd routed as an MSI) reaches it. The handler records, in this order,
 * the event count (its own, or a host-maintained counter set with
 * rt_timer_count_from) and the guest TSC, then raises the task priority
 * where asked (rt_timer_raise_tpr_on_entry), then sends the EOI.
 *
 * Waiting: rt_irq_wait() is `sti; hlt; cli` (the STI shadow makes the pair
 * atomic: an interrupt pending at the STI wakes the HLT).
 */
#pragma once
#include <stdint.h>

#include "rt.h"

#define RT_TIMER_VECTOR    0xe0   /* priority class 14 */
#define RT_SPURIOUS_VECTOR 0xff
/* The LAPIC timer as a watchdog (rt_timer_watchdog_start): class 15, above the timer's, so that
   no TPR the runtime raises (rt_timer_raise_tpr_on_entry, class <= 14) can hold it back. */
#define RT_WATCHDOG_VECTOR 0xf0

#define RT_X2APIC_IRR0       0x20   /* 0x20 - 0x27: 32 vectors each */
#define RT_X2APIC_LVT_TIMER  0x32
#define RT_MSR_TSC_DEADLINE  0x6e0

/* What the timer handler saw last (written with interrupts off, in the handler). */
struct rt_timer_state {
	volatile uint64_t count;        /* events seen: handler runs, or the host's counter */
	volatile uint64_t tsc;          /* guest TSC at the latest handler entry */
	volatile uint64_t runs;         /* handler runs */
};
extern struct rt_timer_state rt_timer;

/* 0, or -1 where CPUID has no x2APIC. */
int rt_irq_init(void);
void rt_timer_install(void);
/* Count events by a counter the host increments before each injection (NULL: count handler runs). */
void rt_timer_count_from(const volatile uint64_t *host_count);
/*
 * The handler raises the TPR to priority class `cls` (0: leaves it) at
 * entry: Karma's TPR raise. Through the x2APIC TPR register (MSR 0x808),
 * not CR8: the same register, but a CR8 write inside a nested SVM guest
 * under qemu's TCG aborts qemu 7.2 (tcg_handle_interrupt asserts the
 * iothread lock), while the MSR write is emulated by the guest's KVM.
 */
void rt_timer_raise_tpr_on_entry(uint64_t cls);
/* Set the TPR's priority class (interrupts of classes <= cls are held back). */
static inline void rt_tpr_set_class(uint64_t cls)
{
	rt_x2apic_write(RT_X2APIC_TPR, cls << 4);
}

static inline void rt_irq_wait(void)
{
	__asm__ volatile("sti\n\thlt\n\tcli" : : : "memory");
}

static inline void rt_irq_enable(void)
{
	__asm__ volatile("sti" : : : "memory");
}

static inline void rt_irq_disable(void)
{
	__asm__ volatile("cli" : : : "memory");
}

/* Events the counter set by rt_timer_count_from says were raised (handler runs without one). */
uint64_t rt_timer_raised(void);
/*
 * The watchdog found raised events whose interrupt never came: credit them
 * (count, stamped now) and raise the TPR as the handler would have, so that
 * the release path after a lost event runs as after any other.
 */
void rt_timer_credit_lost(void);
/*
 * Where events come from elsewhere (an irqfd), the LAPIC timer in
 * TSC-deadline mode on RT_WATCHDOG_VECTOR wakes a HLT that an event's
 * interrupt should have ended; rt_cyclic arms it before each wait.
 * Returns 0, or -1 without a TSC-deadline timer.
 */
int rt_timer_watchdog_start(void);

/* Is `vector` pending (requested, not yet delivered) in the x2APIC's IRR? */
int rt_x2apic_pending(uint8_t vector);

/* TSC-deadline mode of the LAPIC timer: CPUID.1:ECX[24]. */
int rt_tsc_deadline_supported(void);
/* LVT timer: RT_TIMER_VECTOR, TSC-deadline mode, unmasked. */
void rt_tsc_deadline_start(void);
/* Fire at guest TSC `deadline` (a past deadline fires at once; 0 disarms). */
void rt_tsc_deadline_arm(uint64_t deadline);
