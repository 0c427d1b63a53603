/* AOS: system calls, component invocation, page tables and interrupts (aos.h). */
#include "aos.h"

#define MSR_EFER 0xc0000080u
#define MSR_STAR 0xc0000081u
#define MSR_LSTAR 0xc0000082u
#define MSR_SFMASK 0xc0000084u
#define EFER_SCE 1ull
#define RFLAGS_MASKED (0x100ull | 0x200ull | 0x400ull | 0x40000ull)   /* TF IF DF AC */

#define PTE_P 1ull
#define PTE_W 2ull
#define PTE_U 4ull
#define PTE_PS 0x80ull
#define LARGE_BYTES 0x200000ull

/* What aos_entry.S saves; aos_syscall rewrites it to choose where SYSRET goes. */
struct aos_uframe {
	uint64_t rip, rflags, rsp, rax, rdi, rsi;
};

struct aos_component {
	uint64_t cr3;
	uint64_t entry;
	uint64_t stack_top;
};

struct aos_invocation {
	uint64_t rip, rflags, rsp, cr3;
};

static struct aos_component components[AOS_MAX_COMPONENTS];
static struct aos_invocation inv_stack[AOS_MAX_DEPTH];
static unsigned inv_depth;
static uint64_t current_cr3;
static volatile uint64_t irq_count;

void aos_syscall_entry(void);
void aos_syscall_handler(struct aos_uframe *f);

static uint64_t rdmsr64(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static void wrmsr64(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline void write_cr3(uint64_t cr3)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
	current_cr3 = cr3;
}

void aos_init(void)
{
	wrmsr64(MSR_EFER, rdmsr64(MSR_EFER) | EFER_SCE);
	/* SYSCALL: CS = 0x08, SS = 0x10; SYSRET (64-bit): CS = 0x10 + 16 | 3, SS = 0x10 + 8 | 3 (rt.c's GDT). */
	wrmsr64(MSR_STAR, ((uint64_t)KVM_SEL_DATA << 48) | ((uint64_t)KVM_SEL_CODE64 << 32));
	wrmsr64(MSR_LSTAR, (uint64_t)(uintptr_t)aos_syscall_entry);
	wrmsr64(MSR_SFMASK, RFLAGS_MASKED);
	uint64_t cr3;
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	current_cr3 = cr3;
}

uint64_t aos_pt_build(uint64_t pt_pa, uint64_t private_pa, const uint64_t *hide_pa, unsigned n_hide)
{
	uint64_t *pml4 = (uint64_t *)(uintptr_t)pt_pa;
	uint64_t *pdpt = pml4 + 512;
	const uint64_t flags = PTE_P | PTE_W | PTE_U;
	memset(pml4, 0, AOS_PT_BYTES);
	pml4[0] = (pt_pa + 4096) | flags;
	for (uint64_t g = 0; g < 4; g++) {
		uint64_t *pd = pml4 + 512 * (2 + g);
		pdpt[g] = (pt_pa + 4096 * (2 + g)) | flags;
		for (uint64_t i = 0; i < 512; i++)
			pd[i] = ((g << 30) | (i << 21)) | flags | PTE_PS;
	}
	for (unsigned h = 0; h < n_hide; h++) {
		uint64_t pa = hide_pa[h];
		pml4[512 * (2 + (pa >> 30)) + ((pa >> 21) & 511)] = 0;
	}
	pml4[512 * (2 + (AOS_PRIVATE_VA >> 30)) + ((AOS_PRIVATE_VA >> 21) & 511)] =
		(private_pa & ~(LARGE_BYTES - 1)) | flags | PTE_PS;
	return pt_pa;
}

void aos_component_set(unsigned id, uint64_t cr3, void (*entry)(uint64_t arg), uint64_t stack_top)
{
	if (id >= AOS_MAX_COMPONENTS)
		rt_stop(0xa05);
	components[id] = (struct aos_component){ .cr3 = cr3, .entry = (uint64_t)(uintptr_t)entry,
						 .stack_top = stack_top };
}

void aos_switch(unsigned id)
{
	write_cr3(components[id].cr3);
}

__attribute__((interrupt)) static void aos_irq(void *frame)
{
	(void)frame;
	irq_count++;
	rt_x2apic_write(RT_X2APIC_EOI, 0);
}

__attribute__((interrupt)) static void aos_spurious(void *frame)
{
	(void)frame;
}

int aos_irq_enable(uint8_t vector)
{
	if (!rt_x2apic_supported())
		return -1;
	rt_x2apic_enable();
	rt_x2apic_write(RT_X2APIC_TPR, 0);
	rt_x2apic_write(RT_X2APIC_SVR, 0x100 | 0xff);
	rt_idt_set(vector, (uintptr_t)aos_irq);
	rt_idt_set(0xff, (uintptr_t)aos_spurious);
	return 0;
}

static void sys_invoke(struct aos_uframe *f)
{
	uint64_t id = f->rdi;
	if (id >= AOS_MAX_COMPONENTS || !components[id].entry || inv_depth == AOS_MAX_DEPTH) {
		f->rax = AOS_EINVAL;
		return;
	}
	inv_stack[inv_depth++] = (struct aos_invocation){ .rip = f->rip, .rflags = f->rflags, .rsp = f->rsp,
							  .cr3 = current_cr3 };
	const struct aos_component *c = &components[id];
	if (c->cr3 != current_cr3)
		write_cr3(c->cr3);
	f->rip = c->entry;
	f->rsp = c->stack_top - 8;   /* as if entry had been called */
	f->rdi = f->rsi;
}

static void sys_return(struct aos_uframe *f)
{
	if (inv_depth == 0) {
		f->rax = AOS_EINVAL;
		return;
	}
	const struct aos_invocation *inv = &inv_stack[--inv_depth];
	if (inv->cr3 != current_cr3)
		write_cr3(inv->cr3);
	f->rax = f->rdi;
	f->rip = inv->rip;
	f->rflags = inv->rflags;
	f->rsp = inv->rsp;
}

static uint64_t sys_cr3_pair(uint64_t id)
{
	if (id >= AOS_MAX_COMPONENTS || !components[id].cr3)
		return AOS_EINVAL;
	uint64_t mine = current_cr3, t0 = rt_tsc_start();
	write_cr3(components[id].cr3);
	write_cr3(mine);
	return rt_tsc_end() - t0;
}

static uint64_t sys_wait_irq(uint64_t seen)
{
	while (irq_count == seen)
		__asm__ volatile("sti\n\thlt\n\tcli" : : : "memory");   /* sti's shadow: no wake-up is lost */
	return irq_count;
}

void aos_syscall_handler(struct aos_uframe *f)
{
	switch (f->rax) {
	case AOS_SYS_NULL:
		f->rax = 0;
		break;
	case AOS_SYS_INVOKE:
		sys_invoke(f);
		break;
	case AOS_SYS_RETURN:
		sys_return(f);
		break;
	case AOS_SYS_CR3_PAIR:
		f->rax = sys_cr3_pair(f->rdi);
		break;
	case AOS_SYS_WAIT_IRQ:
		f->rax = sys_wait_irq(f->rdi);
		break;
	default:
		f->rax = AOS_EINVAL;
	}
}
