/* The KVM floor guest (kvm_floor.h): a minimal real-mode VM and one KVM_RUN per trip. */
#include "kvm_floor.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm_vm.h"

const uint8_t kvm_floor_code[4] = { 0xe6, KVM_FLOOR_PORT, 0xeb, 0xfc };

static int floor_why(struct kvm_floor *f, bool with_errno, const char *fmt, ...) BENCH_PRINTF(3, 4);
static int floor_why(struct kvm_floor *f, bool with_errno, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = kvm_vwhy(f->why, sizeof(f->why), with_errno, fmt, ap);
	va_end(ap);
	return rc;
}

int kvm_floor_exit_is_expected(uint32_t exit_reason, uint16_t port, uint8_t direction, uint8_t size)
{
	return exit_reason == KVM_EXIT_IO && port == KVM_FLOOR_PORT && direction == KVM_EXIT_IO_OUT && size == 1;
}

int kvm_floor_create(struct kvm_floor *f)
{
	memset(f, 0, sizeof(*f));
	f->kvm_fd = f->vm_fd = f->vcpu_fd = -1;
	f->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (f->kvm_fd < 0)
		return floor_why(f, true, "open /dev/kvm");
	f->vm_fd = ioctl(f->kvm_fd, KVM_CREATE_VM, 0);
	if (f->vm_fd < 0)
		return floor_why(f, true, "KVM_CREATE_VM");
	/* Intel needs the TSS pages even for a real-mode guest; harmless elsewhere. */
	if (ioctl(f->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000ul) != 0)
		return floor_why(f, true, "KVM_SET_TSS_ADDR");
	void *ram = mmap(NULL, KVM_FLOOR_RAM_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		return floor_why(f, true, "mmap guest RAM");
	f->ram = ram;
	memcpy(f->ram + KVM_FLOOR_CODE_GPA, kvm_floor_code, sizeof(kvm_floor_code));
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = KVM_FLOOR_RAM_BYTES,
		.userspace_addr = (uint64_t)(uintptr_t)f->ram,
	};
	if (ioctl(f->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) != 0)
		return floor_why(f, true, "KVM_SET_USER_MEMORY_REGION");
	f->vcpu_fd = ioctl(f->vm_fd, KVM_CREATE_VCPU, 0ul);
	if (f->vcpu_fd < 0)
		return floor_why(f, true, "KVM_CREATE_VCPU");
	int run_bytes = ioctl(f->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_bytes <= 0)
		return floor_why(f, true, "KVM_GET_VCPU_MMAP_SIZE");
	void *run = mmap(NULL, (size_t)run_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, f->vcpu_fd, 0);
	if (run == MAP_FAILED)
		return floor_why(f, true, "mmap struct kvm_run");
	f->run = run;
	f->run_bytes = (size_t)run_bytes;
	struct kvm_sregs sregs;
	if (ioctl(f->vcpu_fd, KVM_GET_SREGS, &sregs) != 0)
		return floor_why(f, true, "KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(f->vcpu_fd, KVM_SET_SREGS, &sregs) != 0)
		return floor_why(f, true, "KVM_SET_SREGS");
	struct kvm_regs regs = { .rip = KVM_FLOOR_CODE_GPA, .rflags = 0x2 };
	if (ioctl(f->vcpu_fd, KVM_SET_REGS, &regs) != 0)
		return floor_why(f, true, "KVM_SET_REGS");
	return 0;
}

int kvm_floor_trip(struct kvm_floor *f)
{
	if (ioctl(f->vcpu_fd, KVM_RUN, 0) != 0)
		return floor_why(f, true, "KVM_RUN");
	struct kvm_run *run = f->run;
	if (run->exit_reason == KVM_EXIT_IO &&
	    kvm_floor_exit_is_expected(run->exit_reason, run->io.port, run->io.direction, run->io.size)) {
		f->trips++;
		return 0;
	}
	return floor_why(f, false, "floor guest: unexpected exit reason %u after %llu trips", run->exit_reason,
			 (unsigned long long)f->trips);
}

void kvm_floor_destroy(struct kvm_floor *f)
{
	if (f->run)
		munmap(f->run, f->run_bytes);
	if (f->vcpu_fd >= 0)
		close(f->vcpu_fd);
	if (f->vm_fd >= 0)
		close(f->vm_fd);
	if (f->kvm_fd >= 0)
		close(f->kvm_fd);
	if (f->ram)
		munmap(f->ram, KVM_FLOOR_RAM_BYTES);
	f->run = NULL;
	f->ram = NULL;
	f->vcpu_fd = f->vm_fd = f->kvm_fd = -1;
}
