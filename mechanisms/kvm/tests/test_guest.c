/*
 * The substrate's test guest: boot->program picks what it does.
 *   0 timebase: arg[0] timestamped exits (KVM_HC_STAMP), then stop(7)
 *   1 #UD   2 triple fault (empty IDT, then #UD)   3 hang   4 #PF at arg[0]
 *   5 user mode: XOR arg[1] bytes at guest-physical arg[0] with (i & 0xff),
 *     cycles of the loop in mailbox.arg[0], stop(10 + CPL)
 *   6 user mode: #UD (reported through TSS.RSP0 like at CPL 0)
 *   7 x2APIC: enable it, report ID and version (hypercall KVM_HC_USER_BASE), stop(20 + advertised)
 *   8 arg[0] hypercalls on port KVM_HC_USER_BASE + 1 at CPL 0 (OUT), cycles in mailbox.arg[0], stop(30)
 *   9 the same at CPL 3 (MMIO window), stop(33)
 *  10 irqfd: wait (up to arg[0] cycles) for vector 0x40 on the x2APIC, see irq_wait
 */
#include "rt.h"

static void user_xor(const struct kvm_boot_info *boot)
{
	volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)boot->arg[0];
	uint64_t t0 = rt_tsc_start();
	for (uint64_t i = 0; i < boot->arg[1]; i++)
		p[i] = (uint8_t)(p[i] ^ (uint8_t)i);
	rt_mailbox()->arg[0] = rt_tsc_end() - t0;
	rt_stop(10 + rt_cpl());
}

static void user_ud(const struct kvm_boot_info *boot)
{
	(void)boot;
	__asm__ volatile("ud2");
}

/* x2APIC: mailbox arg[0] = advertised, arg[1] = ID (MSR 0x802), arg[2] = version (0x803). */
__attribute__((noreturn)) static void x2apic_report(void)
{
	struct kvm_mailbox *mb = rt_mailbox();
	mb->arg[0] = (uint64_t)rt_x2apic_supported();
	if (mb->arg[0]) {
		rt_x2apic_enable();
		mb->arg[1] = rt_x2apic_read(RT_X2APIC_ID);
		mb->arg[2] = rt_x2apic_read(RT_X2APIC_VERSION);
	}
	rt_hypercall(KVM_HC_USER_BASE, 0);
	rt_stop(20 + (uint32_t)mb->arg[0]);
}

/* arg[0] hypercalls on port KVM_HC_USER_BASE + 1 (an ioeventfd), cycles in mailbox.arg[0], stop(30 + CPL). */
__attribute__((noreturn)) static void signal_loop(const struct kvm_boot_info *boot)
{
	uint64_t t0 = rt_tsc_start();
	for (uint64_t i = 0; i < boot->arg[0]; i++)
		rt_hypercall(KVM_HC_USER_BASE + 1, (uint32_t)i);
	rt_mailbox()->arg[0] = rt_tsc_end() - t0;
	rt_stop(30 + rt_cpl());
}

#define IRQ_VECTOR 0x40
static volatile uint64_t irq_count, irq_tsc;

__attribute__((interrupt)) static void irq_handler(void *frame)
{
	(void)frame;
	if (irq_count++ == 0)
		irq_tsc = rt_tsc_start();
	rt_x2apic_write(RT_X2APIC_EOI, 0);
}

__attribute__((interrupt)) static void spurious_handler(void *frame)
{
	(void)frame;   /* a spurious interrupt takes no EOI */
}

/*
 * irqfd: x2APIC on, vector IRQ_VECTOR handled, then a KVM_HC_STAMP exit
 * (the host signals the irqfd) and, with interrupts on, wait up to arg[0]
 * cycles for it. mailbox.arg[0] = interrupts seen, arg[1] = guest TSC in
 * the first handler; stop(40) without x2APIC, else stop(41).
 */
__attribute__((noreturn)) static void irq_wait(const struct kvm_boot_info *boot)
{
	struct kvm_mailbox *mb = rt_mailbox();
	if (!rt_x2apic_supported())
		rt_stop(40);
	rt_x2apic_enable();
	rt_x2apic_write(RT_X2APIC_TPR, 0);
	rt_x2apic_write(RT_X2APIC_SVR, 0x100 | 0xff);   /* APIC software enable, spurious vector 0xff */
	rt_idt_set(IRQ_VECTOR, (uintptr_t)irq_handler);
	rt_idt_set(0xff, (uintptr_t)spurious_handler);
	rt_hypercall(KVM_HC_STAMP, 0);
	uint64_t t0 = rt_tsc_start();
	__asm__ volatile("sti" : : : "memory");
	while (irq_count == 0 && rt_tsc_start() - t0 < boot->arg[0])
		__asm__ volatile("pause");
	__asm__ volatile("cli" : : : "memory");
	mb->arg[0] = irq_count;
	mb->arg[1] = irq_tsc;
	rt_stop(41);
}

void guest_main(const struct kvm_boot_info *boot)
{
	switch (boot->program) {
	case 0:
		for (uint64_t i = 0; i < boot->arg[0]; i++)
			rt_stamped_hypercall(KVM_HC_STAMP, (uint32_t)i);
		rt_stop(7);
	case 1:
		__asm__ volatile("ud2");
		break;
	case 2:
		rt_idt_clear();
		__asm__ volatile("ud2");
		break;
	case 3:
		for (;;)
			__asm__ volatile("pause");
	case 4:
		(void)*(volatile uint64_t *)(uintptr_t)boot->arg[0];
		break;
	case 5:
		rt_enter_user(user_xor, boot);
	case 6:
		rt_enter_user(user_ud, boot);
	case 7:
		x2apic_report();
	case 8:
		signal_loop(boot);
	case 9:
		rt_enter_user(signal_loop, boot);
	case 10:
		irq_wait(boot);
	}
	rt_stop(1);
}
