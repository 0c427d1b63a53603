/*
 * The mini-VMM: one VM over /dev/kvm with an in-kernel irqchip, guest RAM in
 * memory slot 0 (with the page tables, GDT, mailbox and boot info the guest
 * runtime expects, see kvm_abi.h), extra memory slots, ioeventfd and irqfd.
 * vCPUs are in kvm_vcpu.h, the run loop and hypercall dispatch in
 * kvm_runloop.h. Used by mechanism vlib; meant for every KVM mechanism.
 *
 * Every function returns 0 or -1 with a reason in vm->why. kvm_vm_destroy
 * is safe after a failed create and safe twice.
 */
#pragma once
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "kvm_abi.h"

#define KVM_MAX_SLOTS 64
#define KVM_MAX_MSI_ROUTES 16

struct kvm_vm {
	int kvm_fd;
	int vm_fd;
	size_t run_mmap_bytes;           /* size of each vCPU's struct kvm_run mapping */
	uint8_t *ram;                    /* slot 0, guest-physical 0 */
	uint64_t ram_bytes;
	uint64_t slot_used;              /* bitmap over KVM_MAX_SLOTS, bit 0 = RAM */
	uint64_t host_tsc_khz;           /* KVM_GET_TSC_KHZ on the VM, 0 if unknown */
	unsigned n_msi;                  /* MSI routes set by kvm_vm_route_msi */
	struct kvm_vm_msi { uint32_t gsi, apic_id, vector; } msi[KVM_MAX_MSI_ROUTES];
	char why[256];
};

/* Open /dev/kvm, create the VM, its irqchip and ram_bytes of RAM in slot 0. */
int kvm_vm_create(struct kvm_vm *vm, uint64_t ram_bytes);
void kvm_vm_destroy(struct kvm_vm *vm);

/*
 * Write the page tables and GDT, load a flat image (kvm_image.h) and the
 * boot info. Returns 0 and the entry point.
 */
int kvm_vm_load_image(struct kvm_vm *vm, const void *image, size_t image_bytes,
		      const struct kvm_boot_info *boot, uint64_t *entry_gpa);

/* Pointers into guest RAM (the layout of kvm_abi.h). */
static inline struct kvm_mailbox *kvm_vm_mailbox(struct kvm_vm *vm)
{
	return (struct kvm_mailbox *)(vm->ram + KVM_MAILBOX_GPA);
}
static inline void *kvm_vm_gpa(struct kvm_vm *vm, uint64_t gpa)
{
	return gpa < vm->ram_bytes ? vm->ram + gpa : NULL;
}

/*
 * Map `bytes` of host memory at `gpa` in a free slot (page-aligned both).
 * Returns the slot number or -1.
 */
int kvm_vm_map(struct kvm_vm *vm, uint64_t gpa, void *host, uint64_t bytes);
int kvm_vm_unmap(struct kvm_vm *vm, int slot);

/* A guest OUT to `port` (any width) signals `efd` in the kernel, without an exit to us. */
int kvm_vm_ioeventfd(struct kvm_vm *vm, uint16_t port, int efd, bool assign);
/*
 * A guest write of `len` bytes (1, 2, 4 or 8; 0 = any) at `gpa` signals
 * `efd` without an exit to us. With gpa = KVM_HC_MMIO_GPA + 4 * port and
 * len 4 this catches the CPL 3 form of a hypercall on `port`.
 */
int kvm_vm_ioeventfd_mmio(struct kvm_vm *vm, uint64_t gpa, uint32_t len, int efd, bool assign);
/* Writing to `efd` raises `gsi` on the in-kernel irqchip. */
int kvm_vm_irqfd(struct kvm_vm *vm, unsigned gsi, int efd, bool assign);

/*
 * Route `gsi` to an MSI: fixed delivery of `vector` to the local APIC with
 * ID `apic_id` (physical destination, up to 255), so an irqfd on `gsi`
 * interrupts that vCPU directly. The routing table then holds only the
 * routes added this way (KVM_SET_GSI_ROUTING replaces the default one, so
 * the PIC and IOAPIC pins are no longer reachable by GSI). Needs
 * KVM_CAP_IRQ_ROUTING; the reason is in vm->why where it fails.
 */
int kvm_vm_route_msi(struct kvm_vm *vm, unsigned gsi, unsigned apic_id, uint8_t vector);

int kvm_vm_why(struct kvm_vm *vm, const char *fmt, ...) BENCH_PRINTF(2, 3);
/*
 * The VMM's why buffers (vm->why, vcpu->why): bench_vwhy() into buf, with
 * ": strerror(errno)" appended when with_errno, leaving errno as it was.
 * Returns -1, the VMM's failure value.
 */
int kvm_vwhy(char *buf, size_t len, bool with_errno, const char *fmt, va_list ap) BENCH_PRINTF(4, 0);
