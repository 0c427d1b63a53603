/*
 * The guest runtime: what a freestanding guest program gets from
 * mechanisms/kvm/guest. A program defines guest_main(); the runtime has set
 * up the IDT (every exception is reported to the host, which ends the guest)
 * before calling it. Hypercalls are port I/O exits (kvm_abi.h).
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kvm_abi.h"

/* Provided by the program. Returning stops the guest with code 0. */
void guest_main(const struct kvm_boot_info *boot);

static inline struct kvm_mailbox *rt_mailbox(void)
{
	return (struct kvm_mailbox *)(uintptr_t)KVM_MAILBOX_GPA;
}

static inline const struct kvm_boot_info *rt_boot_info(void)
{
	return (const struct kvm_boot_info *)(uintptr_t)KVM_BOOT_INFO_GPA;
}

/*
 * The guest's own TSC reads. The host brackets with `lfence; rdtsc` and
 * `rdtscp; lfence` (bench/tsc.h); the guest cannot count on rdtscp (nested
 * KVM often does not offer it to its guests: it is #UD there), so its end
 * probe is `lfence; rdtsc; lfence`, which orders the same way.
 */
static inline uint64_t rt_tsc_start(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence\n\trdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t rt_tsc_end(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

/* Set by rt_enter_user: hypercalls go through the MMIO window (kvm_abi.h). */
extern int rt_user_mode;

/* Exit to the host on `port` with `value` (OUT at CPL 0, MMIO write at CPL 3). */
static inline void rt_hypercall(uint16_t port, uint32_t value)
{
	if (rt_user_mode)
		__asm__ volatile("movl %0, (%1)" : : "r"(value), "r"(KVM_HC_MMIO_GPA + 4ull * port) : "memory");
	else
		__asm__ volatile("outl %0, %1" : : "a"(value), "Nd"(port) : "memory");
}

/*
 * A timestamped exit: mailbox.tsc_before_exit is stamped right before the
 * OUT, mailbox.tsc_after_entry right after the host resumes us (it reaches
 * the host with the next exit).
 */
static inline void rt_stamped_hypercall(uint16_t port, uint32_t value)
{
	struct kvm_mailbox *mb = rt_mailbox();
	mb->tsc_before_exit = rt_tsc_end();
	rt_hypercall(port, value);
	mb->tsc_after_entry = rt_tsc_start();
}

void rt_log(const char *text);
/* Log "text 0x<hex>". */
void rt_log_hex(const char *text, uint64_t value);
__attribute__((noreturn)) void rt_stop(uint32_t code);

/*
 * Run fn(boot) at CPL 3 (never returns; fn returning stops the guest with
 * code 0). Why: on a software KVM such as PVM (no VT-x; /sys/module/kvm_pvm)
 * every guest instruction at CPL 0 is emulated by the host (~40k cycles
 * each), while CPL 3 code runs natively under shadow paging. Hypercalls switch
 * to the MMIO window (kvm_abi.h), rdtsc works unchanged; exceptions
 * still reach the runtime's handlers on the boot stack (TSS.RSP0). The
 * runtime loads its own GDT (kernel and user segments, a TSS) first.
 */
__attribute__((noreturn)) void rt_enter_user(void (*fn)(const struct kvm_boot_info *),
					      const struct kvm_boot_info *boot);

/* The current privilege level (0 or 3). */
static inline unsigned rt_cpl(void)
{
	uint16_t cs;
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	return cs & 3u;
}

/*
 * Install `handler` for `vector` (an interrupt gate at CPL 0, interrupts
 * off in the handler). The handler is a function with
 * __attribute__((interrupt)) taking a (void *) frame. Vectors without a
 * handler are not present: delivering one is a #NP, reported like any fault.
 */
void rt_idt_set(uint8_t vector, uintptr_t handler);

/* Load an empty IDT: the next exception cannot be delivered (triple fault). */
void rt_idt_clear(void);

/*
 * x2APIC (CPL 0 only: rdmsr/wrmsr, each one emulated under PVM, so for
 * setup rather than hot paths). rt_x2apic_supported: CPUID.1:ECX[21].
 * rt_x2apic_enable sets IA32_APIC_BASE (0x1b) bits 11 (enable) and 10
 * (x2APIC mode). Registers are MSR 0x800 + reg, reg = xAPIC MMIO offset / 16.
 */
#define RT_X2APIC_ID      0x02
#define RT_X2APIC_VERSION 0x03
#define RT_X2APIC_TPR     0x08
#define RT_X2APIC_EOI     0x0b
#define RT_X2APIC_SVR     0x0f
int rt_x2apic_supported(void);
void rt_x2apic_enable(void);
uint64_t rt_x2apic_read(uint32_t reg);
void rt_x2apic_write(uint32_t reg, uint64_t value);

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
