/*
 * A vCPU of a struct kvm_vm: created in 64-bit long mode at the image's
 * entry, with the host's supported CPUID, its TSC offset known (so guest and
 * host timestamps share one time base), run one KVM_RUN at a time, and
 * kicked out of guest mode from another thread (signal + immediate_exit).
 *
 * A vCPU is driven by one host thread (kvm_vcpu_thread_start pins and
 * prioritises it); kvm_vcpu_kick may be called from any thread.
 */
#pragma once
#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "kvm_vm.h"

struct kvm_vcpu {
	struct kvm_vm *vm;
	int fd;
	unsigned id;
	struct kvm_run *run;
	int64_t tsc_offset;              /* guest TSC = host TSC + tsc_offset */
	bool tsc_offset_set;             /* we set it (to 0) via KVM_VCPU_TSC_OFFSET */
	uint64_t guest_tsc_khz;          /* KVM_GET_TSC_KHZ on the vCPU */
	bool has_x2apic;                 /* CPUID advertises x2APIC (KVM_GET_SUPPORTED_CPUID leaf 1 ECX bit 21) */
	bool has_tsc_deadline;           /* CPUID advertises the TSC-deadline timer (leaf 1 ECX bit 24) */
	pthread_t thread;                /* the thread that runs it (set by kvm_vcpu_bind_thread) */
	bool has_thread;
	_Atomic uint64_t kicks_requested;    /* count, for reports */
	_Atomic uint64_t kick_handled_tsc;   /* host TSC when the kick signal reached the thread */
	char why[256];
};

/*
 * Create vCPU `id`, runnable at once (also when id != 0), with KVM's
 * supported CPUID (x2APIC included where KVM has it, APIC IDs = id), long
 * mode, RIP = entry, RSP = stack top, TSC offset 0.
 */
int kvm_vcpu_create(struct kvm_vm *vm, struct kvm_vcpu *vcpu, unsigned id, uint64_t entry_gpa);
void kvm_vcpu_destroy(struct kvm_vcpu *vcpu);

/* Convert a guest timestamp to the host's time base. */
static inline uint64_t kvm_vcpu_guest_to_host_tsc(const struct kvm_vcpu *vcpu, uint64_t guest_tsc)
{
	return guest_tsc - (uint64_t)vcpu->tsc_offset;
}

/* Read the offset back (KVM_VCPU_TSC_CTRL / KVM_VCPU_TSC_OFFSET). */
int kvm_vcpu_read_tsc_offset(struct kvm_vcpu *vcpu, int64_t *offset);

/*
 * One KVM_RUN. Returns 0 with vcpu->run->exit_reason set, 1 when the run was
 * cut short by a kick (EINTR), -1 on an error. Whoever kicks sets its own
 * request flag first; the caller checks its flags before each call.
 */
int kvm_vcpu_run(struct kvm_vcpu *vcpu);

/*
 * The calling thread becomes the one that runs `vcpu`: it gets the kick
 * signal handler, and (cpu >= 0) is pinned, (priority > 0) SCHED_FIFO.
 */
int kvm_vcpu_bind_thread(struct kvm_vcpu *vcpu, int cpu, int priority);

/*
 * Force the vCPU out of guest mode soon: sets immediate_exit (a KVM_RUN
 * about to start returns at once) and signals the vCPU's thread (a KVM_RUN
 * in progress exits). Safe from any thread, also before the vCPU runs.
 */
void kvm_vcpu_kick(struct kvm_vcpu *vcpu);

/* The real-time signal used for kicks. */
int kvm_kick_signal(void);
