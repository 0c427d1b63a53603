/*
 * The usual way to start a guest: create the VM, load an embedded image with
 * its boot info, create vCPU 0 at the entry. One call, one reason on failure.
 */
#pragma once
#include <stddef.h>

#include "kvm_vcpu.h"
#include "kvm_vm.h"

struct kvm_guest {
	struct kvm_vm vm;
	struct kvm_vcpu vcpu;
	bool created;
};

/* Returns 0, or -1 with the reason in `why`. g is zeroed first. */
int kvm_guest_boot(struct kvm_guest *g, uint64_t ram_bytes, const void *image, size_t image_bytes,
		   const struct kvm_boot_info *boot, char *why, size_t why_len);
/* Tear down the vCPU and the VM; safe after a failed boot, safe twice. */
void kvm_guest_destroy(struct kvm_guest *g);
