/* The device checks of the kvm-vmm test (test_vmm_dev.c). */
#pragma once

void test_x2apic(void);
void test_ioeventfd(void);
void test_irqfd(void);
