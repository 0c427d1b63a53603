/* VM lifetime, guest memory and event fds. */
#include "kvm_vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm_image.h"
#include "kvm_pagetable.h"
#include "mechanism.h"

int kvm_vwhy(char *buf, size_t len, bool with_errno, const char *fmt, va_list ap)
{
	int saved = errno;
	bench_vwhy(buf, len, -1, with_errno, fmt, ap);
	errno = saved;
	return -1;
}

int kvm_vm_why(struct kvm_vm *vm, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = kvm_vwhy(vm->why, sizeof(vm->why), false, fmt, ap);
	va_end(ap);
	return rc;
}

static int vm_why_errno(struct kvm_vm *vm, const char *fmt, ...) BENCH_PRINTF(2, 3);
static int vm_why_errno(struct kvm_vm *vm, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = kvm_vwhy(vm->why, sizeof(vm->why), true, fmt, ap);
	va_end(ap);
	return rc;
}

#define WHY_ERRNO(vm, what) vm_why_errno(vm, "%s", what)

static int set_slot(struct kvm_vm *vm, int slot, uint64_t gpa, void *host, uint64_t bytes)
{
	struct kvm_userspace_memory_region region = {
		.slot = (uint32_t)slot, .guest_phys_addr = gpa, .memory_size = bytes,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) != 0)
		return kvm_vm_why(vm, "KVM_SET_USER_MEMORY_REGION slot %d gpa %#llx: %s", slot,
				  (unsigned long long)gpa, strerror(errno));
	return 0;
}

int kvm_vm_create(struct kvm_vm *vm, uint64_t ram_bytes)
{
	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = -1;
	if (ram_bytes < KVM_FREE_RAM_GPA || ram_bytes % KVM_LARGE_BYTES != 0 || ram_bytes > KVM_SLOT_WINDOW_GPA)
		return kvm_vm_why(vm, "RAM of %llu bytes: must be a multiple of 2 MiB in [8 MiB, 2 GiB]",
				  (unsigned long long)ram_bytes);
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return WHY_ERRNO(vm, "open /dev/kvm");
	int api = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION)
		return kvm_vm_why(vm, "KVM API version %d, expected %d", api, KVM_API_VERSION);
	static const struct { long cap; const char *name; } needed[] = {
		{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
		{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
		{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
		{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
		{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
		{ KVM_CAP_GET_TSC_KHZ, "KVM_CAP_GET_TSC_KHZ" },
	};
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, needed[i].cap) <= 0)
			return kvm_vm_why(vm, "this KVM lacks %s", needed[i].name);
	int run_bytes = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_bytes <= 0)
		return WHY_ERRNO(vm, "KVM_GET_VCPU_MMAP_SIZE");
	vm->run_mmap_bytes = (size_t)run_bytes;
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return WHY_ERRNO(vm, "KVM_CREATE_VM");
	/* The TSS and identity map pages Intel needs, parked just below 4 GiB. */
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000ul) != 0)
		return WHY_ERRNO(vm, "KVM_SET_TSS_ADDR");
	uint64_t identity_gpa = 0xfffbc000ull;
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity_gpa) != 0)
		return WHY_ERRNO(vm, "KVM_SET_IDENTITY_MAP_ADDR");
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) != 0)
		return WHY_ERRNO(vm, "KVM_CREATE_IRQCHIP");
	int khz = ioctl(vm->vm_fd, KVM_GET_TSC_KHZ, 0);
	vm->host_tsc_khz = khz > 0 ? (uint64_t)khz : 0;

	void *ram = mmap(NULL, ram_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ram == MAP_FAILED)
		return WHY_ERRNO(vm, "mmap guest RAM");
	vm->ram = ram;
	vm->ram_bytes = ram_bytes;
	if (set_slot(vm, 0, 0, vm->ram, ram_bytes) != 0)
		return -1;
	vm->slot_used = 1;
	return 0;
}

void kvm_vm_destroy(struct kvm_vm *vm)
{
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);   /* the kernel drops every slot and eventfd binding with the VM */
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->ram)
		munmap(vm->ram, vm->ram_bytes);
	vm->vm_fd = vm->kvm_fd = -1;
	vm->ram = NULL;
	vm->slot_used = 0;
}

int kvm_vm_load_image(struct kvm_vm *vm, const void *image, size_t image_bytes,
		      const struct kvm_boot_info *boot, uint64_t *entry_gpa)
{
	char why[200];
	if (!kvm_pt_build(vm->ram, vm->ram_bytes, KVM_PT_GPA, KVM_MAPPED_BYTES, why, sizeof(why)))
		return kvm_vm_why(vm, "page tables: %s", why);
	if (!kvm_gdt_build(vm->ram, vm->ram_bytes, KVM_GDT_GPA))
		return kvm_vm_why(vm, "GDT does not fit");
	struct kvm_image_header hdr;
	if (kvm_image_load(vm->ram, vm->ram_bytes, image, image_bytes, KVM_IMAGE_LIMIT_GPA, &hdr, why,
			   sizeof(why)) != 0)
		return kvm_vm_why(vm, "image: %s", why);
	memset(vm->ram + KVM_MAILBOX_GPA, 0, sizeof(struct kvm_mailbox));
	memcpy(vm->ram + KVM_BOOT_INFO_GPA, boot, sizeof(*boot));
	*entry_gpa = hdr.entry_gpa;
	return 0;
}

int kvm_vm_map(struct kvm_vm *vm, uint64_t gpa, void *host, uint64_t bytes)
{
	if (gpa % KVM_PAGE_BYTES || bytes % KVM_PAGE_BYTES || (uintptr_t)host % KVM_PAGE_BYTES || bytes == 0)
		return kvm_vm_why(vm, "slot at %#llx (%llu bytes): not page-aligned", (unsigned long long)gpa,
				  (unsigned long long)bytes);
	int slot = 1;
	while (slot < KVM_MAX_SLOTS && (vm->slot_used & (1ull << slot)))
		slot++;
	if (slot == KVM_MAX_SLOTS)
		return kvm_vm_why(vm, "all %d memory slots are in use", KVM_MAX_SLOTS);
	if (set_slot(vm, slot, gpa, host, bytes) != 0)
		return -1;
	vm->slot_used |= 1ull << slot;
	return slot;
}

int kvm_vm_unmap(struct kvm_vm *vm, int slot)
{
	if (slot <= 0 || slot >= KVM_MAX_SLOTS || !(vm->slot_used & (1ull << slot)))
		return kvm_vm_why(vm, "slot %d is not mapped", slot);
	if (set_slot(vm, slot, 0, NULL, 0) != 0)   /* size 0 deletes the slot */
		return -1;
	vm->slot_used &= ~(1ull << slot);
	return 0;
}

int kvm_vm_ioeventfd(struct kvm_vm *vm, uint16_t port, int efd, bool assign)
{
	struct kvm_ioeventfd io = {
		.addr = port, .len = 0, .fd = efd,
		.flags = KVM_IOEVENTFD_FLAG_PIO | (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};
	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) != 0)
		return kvm_vm_why(vm, "KVM_IOEVENTFD port %#x: %s", port, strerror(errno));
	return 0;
}

int kvm_vm_ioeventfd_mmio(struct kvm_vm *vm, uint64_t gpa, uint32_t len, int efd, bool assign)
{
	struct kvm_ioeventfd io = {
		.addr = gpa, .len = len, .fd = efd, .flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
	};
	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) != 0)
		return kvm_vm_why(vm, "KVM_IOEVENTFD MMIO %#llx (%u bytes): %s", (unsigned long long)gpa, len,
				  strerror(errno));
	return 0;
}

int kvm_vm_irqfd(struct kvm_vm *vm, unsigned gsi, int efd, bool assign)
{
	struct kvm_irqfd irq = { .fd = (uint32_t)efd, .gsi = gsi, .flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN };
	if (ioctl(vm->vm_fd, KVM_IRQFD, &irq) != 0)
		return kvm_vm_why(vm, "KVM_IRQFD gsi %u: %s", gsi, strerror(errno));
	return 0;
}

int kvm_vm_route_msi(struct kvm_vm *vm, unsigned gsi, unsigned apic_id, uint8_t vector)
{
	if (apic_id > 255)
		return kvm_vm_why(vm, "MSI route to APIC ID %u: only IDs up to 255", apic_id);
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING) <= 0)
		return kvm_vm_why(vm, "this KVM lacks KVM_CAP_IRQ_ROUTING");
	unsigned i = 0;
	while (i < vm->n_msi && vm->msi[i].gsi != gsi)
		i++;
	if (i == KVM_MAX_MSI_ROUTES)
		return kvm_vm_why(vm, "all %d MSI routes are in use", KVM_MAX_MSI_ROUTES);
	unsigned n = i == vm->n_msi ? vm->n_msi + 1 : vm->n_msi;
	struct kvm_irq_routing *table = calloc(1, sizeof(*table) + n * sizeof(table->entries[0]));
	if (!table)
		return kvm_vm_why(vm, "out of memory for the GSI routing table");
	struct kvm_vm_msi saved = vm->msi[i];
	vm->msi[i] = (struct kvm_vm_msi){ .gsi = gsi, .apic_id = apic_id, .vector = vector };
	table->nr = n;
	for (unsigned k = 0; k < n; k++) {
		struct kvm_irq_routing_entry *e = &table->entries[k];
		e->gsi = vm->msi[k].gsi;
		e->type = KVM_IRQ_ROUTING_MSI;
		e->u.msi.address_lo = 0xfee00000u | (vm->msi[k].apic_id << 12);   /* physical, no redirection */
		e->u.msi.address_hi = 0;
		e->u.msi.data = vm->msi[k].vector;                                  /* fixed, edge */
	}
	int rc = 0;
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, table) != 0) {
		rc = kvm_vm_why(vm, "KVM_SET_GSI_ROUTING (GSI %u -> APIC %u vector %#x): %s", gsi, apic_id, vector,
				strerror(errno));
		vm->msi[i] = saved;
	} else {
		vm->n_msi = n;
	}
	free(table);
	return rc;
}
