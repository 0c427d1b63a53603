/* vCPU creation in long mode, TSC offset, KVM_RUN and kicks. */
#include "kvm_vcpu.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rtenv.h"
#include "tsc.h"

#define KICK_SIGNAL_OFFSET 5   /* SIGRTMIN + 5 */
#define MAX_CPUID_ENTRIES 256
#define CPUID_1_ECX_X2APIC (1u << 21)
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)

static int why(struct kvm_vcpu *vcpu, const char *fmt, ...) BENCH_PRINTF(2, 3);
static int why(struct kvm_vcpu *vcpu, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = kvm_vwhy(vcpu->why, sizeof(vcpu->why), false, fmt, ap);
	va_end(ap);
	return rc;
}

static int why_errno(struct kvm_vcpu *vcpu, const char *fmt, ...) BENCH_PRINTF(2, 3);
static int why_errno(struct kvm_vcpu *vcpu, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = kvm_vwhy(vcpu->why, sizeof(vcpu->why), true, fmt, ap);
	va_end(ap);
	return rc;
}
#define WHY_ERRNO(v, what) why_errno(v, "%s", what)

int kvm_kick_signal(void)
{
	return SIGRTMIN + KICK_SIGNAL_OFFSET;
}

/* The vCPU this thread runs, for the signal handler's timestamp. */
static __thread struct kvm_vcpu *thread_vcpu;

static void kick_handler(int sig)
{
	(void)sig;
	struct kvm_vcpu *v = thread_vcpu;
	if (!v)
		return;
	atomic_store_explicit(&v->kick_handled_tsc, tsc_end(), memory_order_release);
	/* A signal that lands while we are outside KVM_RUN still stops the next entry. */
	if (v->run)
		v->run->immediate_exit = 1;
}

static int set_cpuid(struct kvm_vcpu *vcpu)
{
	size_t bytes = sizeof(struct kvm_cpuid2) + MAX_CPUID_ENTRIES * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *cpuid = calloc(1, bytes);
	if (!cpuid)
		return why(vcpu, "out of memory for CPUID");
	cpuid->nent = MAX_CPUID_ENTRIES;
	int rc = 0;
	if (ioctl(vcpu->vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) != 0) {
		rc = WHY_ERRNO(vcpu, "KVM_GET_SUPPORTED_CPUID");
	} else {
		for (uint32_t i = 0; i < cpuid->nent; i++) {
			struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
			if (e->function == 1) {
				/* Initial APIC ID: the vCPU id, as KVM's local APIC reports it. */
				e->ebx = (e->ebx & 0x00ffffffu) | ((vcpu->id & 0xffu) << 24);
				vcpu->has_x2apic = (e->ecx & CPUID_1_ECX_X2APIC) != 0;
				/* KVM emulates the TSC-deadline timer with its irqchip but leaves the bit to us. */
				if (ioctl(vcpu->vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0)
					e->ecx |= CPUID_1_ECX_TSC_DEADLINE;
				vcpu->has_tsc_deadline = (e->ecx & CPUID_1_ECX_TSC_DEADLINE) != 0;
			} else if (e->function == 0xb || e->function == 0x1f) {
				e->edx = vcpu->id;   /* x2APIC ID in the topology leaves */
			}
		}
		if (ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid) != 0)
			rc = WHY_ERRNO(vcpu, "KVM_SET_CPUID2");
	}
	free(cpuid);
	return rc;
}

/* With an in-kernel irqchip a vCPU other than the boot CPU waits for INIT/SIPI; ours start at the entry. */
static int set_runnable(struct kvm_vcpu *vcpu)
{
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
	if (ioctl(vcpu->fd, KVM_SET_MP_STATE, &mp) != 0)
		return WHY_ERRNO(vcpu, "KVM_SET_MP_STATE runnable");
	return 0;
}

static void flat_segment(struct kvm_segment *s, uint16_t selector, bool code)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = selector, .present = 1, .dpl = 0,
		.db = code ? 0 : 1, .s = 1, .l = code ? 1 : 0, .g = 1,
		.type = code ? 0xb : 0x3,   /* execute/read accessed : read/write accessed */
	};
}

static int set_long_mode(struct kvm_vcpu *vcpu, uint64_t entry_gpa)
{
	struct kvm_sregs sregs;
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) != 0)
		return WHY_ERRNO(vcpu, "KVM_GET_SREGS");
	flat_segment(&sregs.cs, KVM_SEL_CODE64, true);
	flat_segment(&sregs.ds, KVM_SEL_DATA, false);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.gdt.base = KVM_GDT_GPA;
	sregs.gdt.limit = 3 * 8 - 1;
	sregs.cr3 = KVM_PT_GPA;
	sregs.cr4 = (1u << 5);                       /* PAE */
	sregs.cr0 = (1u << 0) | (1u << 1) | (1u << 4) | (1u << 5) | (1u << 16) | (1u << 31); /* PE MP ET NE WP PG */
	sregs.efer = (1u << 8) | (1u << 10);         /* LME LMA */
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) != 0)
		return WHY_ERRNO(vcpu, "KVM_SET_SREGS (long mode)");
	struct kvm_regs regs = { .rip = entry_gpa, .rsp = KVM_STACK_TOP_GPA, .rflags = 0x2 };
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) != 0)
		return WHY_ERRNO(vcpu, "KVM_SET_REGS");
	return 0;
}

int kvm_vcpu_read_tsc_offset(struct kvm_vcpu *vcpu, int64_t *offset)
{
	struct kvm_device_attr attr = {
		.group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET, .addr = (uint64_t)(uintptr_t)offset,
	};
	if (ioctl(vcpu->fd, KVM_GET_DEVICE_ATTR, &attr) != 0)
		return WHY_ERRNO(vcpu, "KVM_GET_DEVICE_ATTR KVM_VCPU_TSC_OFFSET");
	return 0;
}

/* Make guest TSC == host TSC (offset 0) where KVM allows; always read the offset back. */
static int setup_tsc(struct kvm_vcpu *vcpu)
{
	int khz = ioctl(vcpu->fd, KVM_GET_TSC_KHZ, 0);
	if (khz <= 0)
		return WHY_ERRNO(vcpu, "KVM_GET_TSC_KHZ");
	vcpu->guest_tsc_khz = (uint64_t)khz;
	struct kvm_device_attr attr = { .group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET };
	if (ioctl(vcpu->fd, KVM_HAS_DEVICE_ATTR, &attr) != 0)
		return why(vcpu, "this KVM has no KVM_VCPU_TSC_OFFSET attribute (Linux >= 5.16 needed): "
			   "guest and host timestamps cannot be put on one time base");
	int64_t zero = 0;
	attr.addr = (uint64_t)(uintptr_t)&zero;
	vcpu->tsc_offset_set = ioctl(vcpu->fd, KVM_SET_DEVICE_ATTR, &attr) == 0;
	return kvm_vcpu_read_tsc_offset(vcpu, &vcpu->tsc_offset);
}

int kvm_vcpu_create(struct kvm_vm *vm, struct kvm_vcpu *vcpu, unsigned id, uint64_t entry_gpa)
{
	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (vcpu->fd < 0)
		return WHY_ERRNO(vcpu, "KVM_CREATE_VCPU");
	void *run = mmap(NULL, vm->run_mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (run == MAP_FAILED)
		return WHY_ERRNO(vcpu, "mmap struct kvm_run");
	vcpu->run = run;
	if (set_cpuid(vcpu) || set_long_mode(vcpu, entry_gpa) || setup_tsc(vcpu) || set_runnable(vcpu))
		return -1;
	return 0;
}

void kvm_vcpu_destroy(struct kvm_vcpu *vcpu)
{
	if (vcpu->run && vcpu->vm)
		munmap(vcpu->run, vcpu->vm->run_mmap_bytes);
	vcpu->run = NULL;
	if (vcpu->fd > 0)
		close(vcpu->fd);
	vcpu->fd = -1;
	if (thread_vcpu == vcpu)
		thread_vcpu = NULL;
}

int kvm_vcpu_bind_thread(struct kvm_vcpu *vcpu, int cpu, int priority)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;   /* no SA_RESTART: KVM_RUN must come back with EINTR */
	sigemptyset(&sa.sa_mask);
	if (sigaction(kvm_kick_signal(), &sa, NULL) != 0)
		return WHY_ERRNO(vcpu, "sigaction (kick signal)");
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, kvm_kick_signal());
	if (pthread_sigmask(SIG_UNBLOCK, &set, NULL) != 0)
		return why(vcpu, "cannot unblock the kick signal");
	int err = cpu >= 0 ? rtenv_pin_self(cpu) : 0;
	if (err)
		return why(vcpu, "cannot pin the vCPU thread to CPU %d: %s", cpu, strerror(err));
	err = priority > 0 ? rtenv_fifo_self(priority) : 0;
	if (err)
		return why(vcpu, "cannot make the vCPU thread SCHED_FIFO %d: %s", priority, strerror(err));
	thread_vcpu = vcpu;
	vcpu->thread = pthread_self();
	vcpu->has_thread = true;
	return 0;
}

int kvm_vcpu_run(struct kvm_vcpu *vcpu)
{
	if (ioctl(vcpu->fd, KVM_RUN, 0) == 0)
		return 0;
	if (errno != EINTR && errno != EAGAIN)
		return WHY_ERRNO(vcpu, "KVM_RUN");
	/*
	 * Kicked. A kicker sets its request flag before kicking and callers
	 * check their flags before every KVM_RUN, so clearing immediate_exit
	 * here cannot lose a request.
	 */
	vcpu->run->immediate_exit = 0;
	return 1;
}

void kvm_vcpu_kick(struct kvm_vcpu *vcpu)
{
	atomic_fetch_add(&vcpu->kicks_requested, 1);
	if (vcpu->run)
		vcpu->run->immediate_exit = 1;
	atomic_thread_fence(memory_order_seq_cst);
	if (vcpu->has_thread)
		pthread_kill(vcpu->thread, kvm_kick_signal());
}
