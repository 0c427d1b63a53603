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
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "kvm_abi.h"

#define KVM_MAX_SLOTS 64

struct kvm_vm {
	int kvm_fd;
	int vm_fd;
	size_t run_mmap_bytes;           /* size of each vCPU's struct kvm_run mapping */
	uint8_t *ram;                    /* slot 0, guest-physical 0 */
	uint64_t ram_bytes;
	uint64_t slot_used;              /* bitmap over KVM_MAX_SLOTS, bit 0 = RAM */
	uint64_t host_tsc_khz;           /* KVM_GET_TSC_KHZ on the VM, 0 if unknown */
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
/* Writing to `efd` raises `gsi` on the in-kernel irqchip. */
int kvm_vm_irqfd(struct kvm_vm *vm, unsigned gsi, int efd, bool assign);

int kvm_vm_why(struct kvm_vm *vm, const char *fmt, ...) BENCH_PRINTF(2, 3);
