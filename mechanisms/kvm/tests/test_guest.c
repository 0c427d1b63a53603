/*
 * The substrate's test guest: boot->program picks what it does.
 *   0 timebase: arg[0] timestamped exits (KVM_HC_STAMP), then stop(7)
 *   1 #UD   2 triple fault (empty IDT, then #UD)   3 hang   4 #PF at arg[0]
 *   5 user mode: XOR arg[1] bytes at guest-physical arg[0] with (i & 0xff),
 *     cycles of the loop in mailbox.arg[0], stop(10 + CPL)
 *   6 user mode: #UD (reported through TSS.RSP0 like at CPL 0)
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

void guest_main(const struct kvm_boot_info *boot)
{
	switch (boot->program) {
	case 0:
		rt_x2apic_enable();
		rt_log_hex("x2APIC id", rt_x2apic_read(0x2));
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
	}
	rt_stop(1);
}
