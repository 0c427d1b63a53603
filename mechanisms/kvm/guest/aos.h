/*
 * AOS: a small kernel on the guest runtime (rt.h), for guests that model an
 * auxiliary OS with user-level components in separate address spaces (the
 * Hijack^COS mechanism's COMPOSITE stand-in, mechanisms/hijackcos).
 *
 *  - components: up to AOS_MAX_COMPONENTS, each with its own page tables
 *    (aos_pt_build: the runtime's identity map, but the component's private
 *    window AOS_PRIVATE_VA maps the component's own 2 MiB of RAM, and the
 *    private RAM of the others is not mapped at all), an entry point and
 *    a stack; they run at CPL 3;
 *  - system calls: SYSCALL/SYSRET (aos_entry.S) into aos_syscall():
 *      AOS_SYS_NULL        returns 0 (the bare round trip)
 *      AOS_SYS_INVOKE      (component, arg): thread migration as COMPOSITE
 *                          does it: the caller's return context is pushed on
 *                          the kernel's invocation stack, CR3 switches to the
 *                          callee's tables (not written when they are the
 *                          caller's), SYSRET to the callee's entry(arg)
 *      AOS_SYS_RETURN      (value): pop, CR3 back, SYSRET to the caller with
 *                          value as the result of its AOS_SYS_INVOKE
 *      AOS_SYS_CR3_PAIR    (component): the kernel writes CR3 with the
 *                          component's tables and back, returns the TSC
 *                          cycles of the two writes
 *      AOS_SYS_WAIT_IRQ    (seen): blocks (sti; hlt) until the interrupt
 *                          count differs from seen; returns the count
 *  - interrupts: aos_irq_enable(vector) turns the x2APIC on and counts the
 *    vector's interrupts (the component blocked in AOS_SYS_WAIT_IRQ wakes).
 *
 * One vCPU, no preemption: the kernel runs with interrupts off except in
 * AOS_SYS_WAIT_IRQ, and components run with them off (SYSRET restores the
 * caller's RFLAGS, which rt_enter_user starts with IF clear).
 *
 * Use: at CPL 0, aos_init(), aos_pt_build() and aos_component_set() per
 * component, aos_switch(first component), then rt_enter_user() into it.
 */
#pragma once
#include <stdint.h>

#include "rt.h"

#define AOS_MAX_COMPONENTS 8
#define AOS_MAX_DEPTH 8
#define AOS_PRIVATE_VA 0x40000000ull      /* every component's private 2 MiB window */
#define AOS_PRIVATE_BYTES 0x200000ull
#define AOS_PT_BYTES (6 * 4096ull)         /* PML4, PDPT, 4 PDs */

enum aos_sys {
	AOS_SYS_NULL = 0,
	AOS_SYS_INVOKE = 1,
	AOS_SYS_RETURN = 2,
	AOS_SYS_CR3_PAIR = 3,
	AOS_SYS_WAIT_IRQ = 4,
};
#define AOS_EINVAL (~0ull)

/* ---- kernel side (CPL 0) ---- */

/* SYSCALL MSRs (EFER.SCE, STAR, LSTAR, SFMASK). */
void aos_init(void);
/*
 * Page tables at pt_pa (AOS_PT_BYTES, 4 KiB aligned): identity map of 0-4
 * GiB in 2 MiB pages, user-accessible, without the 2 MiB pages in
 * hide_pa[0..n_hide), and AOS_PRIVATE_VA -> private_pa (2 MiB aligned).
 * Returns the CR3 value.
 */
uint64_t aos_pt_build(uint64_t pt_pa, uint64_t private_pa, const uint64_t *hide_pa, unsigned n_hide);
/* Component id: its tables, and where AOS_SYS_INVOKE starts it (entry(arg) on stack_top). */
void aos_component_set(unsigned id, uint64_t cr3, void (*entry)(uint64_t arg), uint64_t stack_top);
/* Load CR3 with component id's tables (the kernel is mapped alike in all). */
void aos_switch(unsigned id);
/* x2APIC on (returns -1 without one), `vector` counted, a spurious vector 0xff. */
int aos_irq_enable(uint8_t vector);

/* ---- user side (CPL 3) ---- */

static inline uint64_t aos_syscall(uint64_t nr, uint64_t a0, uint64_t a1)
{
	uint64_t ret;
	/* SYSCALL clobbers rcx and r11; the kernel's C code the caller-saved rest. */
	__asm__ volatile("syscall"
			 : "=a"(ret), "+D"(a0), "+S"(a1)
			 : "a"(nr)
			 : "rcx", "r11", "rdx", "r8", "r9", "r10", "memory", "cc");
	return ret;
}

static inline uint64_t aos_invoke(unsigned component, uint64_t arg)
{
	return aos_syscall(AOS_SYS_INVOKE, component, arg);
}

/* From a component's entry: back to its invoker with value (never returns). */
__attribute__((noreturn)) static inline void aos_return(uint64_t value)
{
	aos_syscall(AOS_SYS_RETURN, value, 0);
	__builtin_unreachable();
}
