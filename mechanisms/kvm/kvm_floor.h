/*
 * The KVM floor: the cheapest round trip through KVM_RUN that a VMM in user
 * space can time. A VM with no irqchip, no paging, no CPUID set, one page of
 * RAM and a two-instruction real-mode guest:
 *
 *   0x1000:  out %al, $KVM_FLOOR_PORT     (e6 10)   exit to user space
 *   0x1002:  jmp 0x1000                  (eb fc)
 *
 * One kvm_floor_trip() is one KVM_RUN: entry, the OUT's exit, KVM's return
 * to user space. Nothing else runs in the guest, so a trip is the least any
 * hypercall through KVM_RUN can cost on this machine: the substrate's own
 * exits (kvm_vm.h, kvm_runloop.h) are compared with it.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define KVM_FLOOR_PORT 0x10
#define KVM_FLOOR_CODE_GPA 0x1000u
#define KVM_FLOOR_RAM_BYTES 0x10000u

/* The guest's code, placed at KVM_FLOOR_CODE_GPA (exposed for the unit test). */
extern const uint8_t kvm_floor_code[4];

struct kvm_floor {
	int kvm_fd, vm_fd, vcpu_fd;
	void *run;                /* struct kvm_run */
	size_t run_bytes;
	uint8_t *ram;
	uint64_t trips;
	char why[256];
};

/* Returns 0, or -1 with the reason in f->why. Safe to destroy after a failure. */
int kvm_floor_create(struct kvm_floor *f);
/* One KVM_RUN; 0 when it ended in the expected OUT, -1 (why) otherwise. */
int kvm_floor_trip(struct kvm_floor *f);
void kvm_floor_destroy(struct kvm_floor *f);
/* 1 when an exit (reason, port, direction, size) is the floor guest's OUT. */
int kvm_floor_exit_is_expected(uint32_t exit_reason, uint16_t port, uint8_t direction, uint8_t size);
