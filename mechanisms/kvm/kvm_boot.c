/* Create a VM, load an image, create vCPU 0. */
#include "kvm_boot.h"

#include <stdio.h>
#include <string.h>

int kvm_guest_boot(struct kvm_guest *g, uint64_t ram_bytes, const void *image, size_t image_bytes,
		   const struct kvm_boot_info *boot, char *why, size_t why_len)
{
	memset(g, 0, sizeof(*g));
	g->vcpu.fd = -1;
	g->created = true;
	uint64_t entry = 0;
	if (kvm_vm_create(&g->vm, ram_bytes) != 0 || kvm_vm_load_image(&g->vm, image, image_bytes, boot, &entry) != 0) {
		snprintf(why, why_len, "%s", g->vm.why);
		return -1;
	}
	if (kvm_vcpu_create(&g->vm, &g->vcpu, 0, entry) != 0) {
		snprintf(why, why_len, "%s", g->vcpu.why);
		return -1;
	}
	return 0;
}

void kvm_guest_destroy(struct kvm_guest *g)
{
	if (!g->created)
		return;
	kvm_vcpu_destroy(&g->vcpu);
	kvm_vm_destroy(&g->vm);
	g->created = false;
}
