/* Guest timer runtime: x2APIC interrupts, the timer handler, TSC-deadline. */
#include "rt_timer.h"

struct rt_timer_state rt_timer;
static const volatile uint64_t *host_count;
static uint64_t entry_tpr_class;

static void wrmsr64(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/*
 * The count first, then the TSC: every event the count includes was raised
 * before the stamp, so no period is credited with a stamp older than its
 * own event.
 */
__attribute__((interrupt)) static void timer_handler(void *frame)
{
	(void)frame;
	uint64_t seen = host_count ? *host_count : rt_timer.runs + 1;
	uint64_t t = rt_tsc_start();
	/* a stale event (one the watchdog already credited) starts no release path: no raise */
	if (entry_tpr_class && seen > rt_timer.count)
		rt_tpr_set_class(entry_tpr_class);
	rt_timer.count = seen;
	rt_timer.tsc = t;
	rt_timer.runs++;
	rt_x2apic_write(RT_X2APIC_EOI, 0);
}

__attribute__((interrupt)) static void watchdog_handler(void *frame)
{
	(void)frame;
	rt_x2apic_write(RT_X2APIC_EOI, 0);
}

__attribute__((interrupt)) static void spurious_handler(void *frame)
{
	(void)frame;   /* a spurious interrupt takes no EOI */
}

int rt_irq_init(void)
{
	if (!rt_x2apic_supported())
		return -1;
	rt_x2apic_enable();
	rt_x2apic_write(RT_X2APIC_TPR, 0);
	rt_x2apic_write(RT_X2APIC_SVR, 0x100 | RT_SPURIOUS_VECTOR);
	rt_idt_set(RT_SPURIOUS_VECTOR, (uintptr_t)spurious_handler);
	return 0;
}

void rt_timer_install(void)
{
	rt_idt_set(RT_TIMER_VECTOR, (uintptr_t)timer_handler);
}

void rt_timer_count_from(const volatile uint64_t *count)
{
	host_count = count;
}

void rt_timer_raise_tpr_on_entry(uint64_t cls)
{
	entry_tpr_class = cls;
}

uint64_t rt_timer_raised(void)
{
	return host_count ? *host_count : rt_timer.runs;
}

void rt_timer_credit_lost(void)
{
	uint64_t raised = rt_timer_raised();
	uint64_t t = rt_tsc_start();
	if (entry_tpr_class && raised > rt_timer.count)
		rt_tpr_set_class(entry_tpr_class);
	rt_timer.count = raised;
	rt_timer.tsc = t;
}

int rt_timer_watchdog_start(void)
{
	if (!rt_tsc_deadline_supported())
		return -1;
	rt_idt_set(RT_WATCHDOG_VECTOR, (uintptr_t)watchdog_handler);
	rt_x2apic_write(RT_X2APIC_LVT_TIMER, (2u << 17) | RT_WATCHDOG_VECTOR);
	return 0;
}

int rt_x2apic_pending(uint8_t vector)
{
	return (int)((rt_x2apic_read(RT_X2APIC_IRR0 + vector / 32u) >> (vector % 32u)) & 1u);
}

int rt_tsc_deadline_supported(void)
{
	uint32_t a = 1, b, c = 0, d;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return (c >> 24) & 1;
}

void rt_tsc_deadline_start(void)
{
	rt_x2apic_write(RT_X2APIC_LVT_TIMER, (2u << 17) | RT_TIMER_VECTOR);   /* mode 10b: TSC-deadline */
}

void rt_tsc_deadline_arm(uint64_t deadline)
{
	wrmsr64(RT_MSR_TSC_DEADLINE, deadline);
}
