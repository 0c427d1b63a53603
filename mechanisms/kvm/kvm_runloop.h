/*
 * The run loop: enter the guest, decode each exit, dispatch hypercalls (port
 * I/O exits, kvm_abi.h) through a table, and end with a status that says
 * exactly how the guest ended. A guest never takes the harness down: a
 * triple fault, an exception, an exit nobody handles, or a watchdog's stop
 * request all end the loop with a status and a readable description.
 */
#pragma once
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "kvm_vcpu.h"

enum kvm_guest_status {
	KVM_GUEST_RUNNING = 0,
	KVM_GUEST_STOPPED,          /* the guest called KVM_HC_STOP */
	KVM_GUEST_FAULT,            /* an exception, reported by the runtime's handler */
	KVM_GUEST_TRIPLE_FAULT,     /* KVM_EXIT_SHUTDOWN: the CPU gave up */
	KVM_GUEST_UNEXPECTED_EXIT,  /* an exit or port nobody handles */
	KVM_GUEST_UNRESPONSIVE,     /* a watchdog stopped it */
	KVM_GUEST_HOST_ERROR,       /* KVM_RUN itself failed */
};

/* What a hypercall handler tells the loop. */
enum kvm_hc_action {
	KVM_HC_CONTINUE = 0,   /* re-enter the guest */
	KVM_HC_RETURN = 1,     /* return to kvm_run_loop's caller; the guest can be resumed */
	KVM_HC_END = 2,        /* the guest is finished (the handler set the exit state) */
};

struct kvm_exit_state {
	enum kvm_guest_status status;
	uint32_t stop_code;              /* KVM_HC_STOP's value */
	struct kvm_fault_info fault;     /* KVM_GUEST_FAULT */
	uint32_t exit_reason;            /* the last KVM exit reason */
	uint64_t exits;                  /* exits handled */
	char detail[160];
};

struct kvm_vcpu;
/* `value` is what the guest wrote with OUT (eax, zero-extended). */
typedef int (*kvm_hc_fn)(struct kvm_vcpu *vcpu, void *arg, uint32_t value);

#define KVM_DISPATCH_MAX 16
struct kvm_dispatch {
	unsigned n;
	struct {
		uint16_t port;
		kvm_hc_fn fn;
		void *arg;
	} entry[KVM_DISPATCH_MAX];
};

/* The runtime's own hypercalls (LOG, STOP, FAULT, STAMP) are handled built-in. */
int kvm_dispatch_add(struct kvm_dispatch *d, uint16_t port, kvm_hc_fn fn, void *arg);

/*
 * Handle the exit now in vcpu->run: KVM_HC_CONTINUE, KVM_HC_RETURN, or
 * KVM_HC_END with st->status set.
 */
int kvm_handle_exit(struct kvm_vcpu *vcpu, const struct kvm_dispatch *d, struct kvm_exit_state *st);

/*
 * Run until a handler returns KVM_HC_RETURN (returns KVM_LOOP_RETURNED;
 * call again to resume), the guest ends (KVM_LOOP_ENDED, st says how) or a
 * kick arrives (KVM_LOOP_KICKED: the caller looks at its own flags, then
 * resumes). *stop_request, when set to a status other than
 * KVM_GUEST_RUNNING by another thread that then kicks the vCPU, ends the
 * loop with that status.
 */
enum { KVM_LOOP_RETURNED = 0, KVM_LOOP_ENDED = 1, KVM_LOOP_KICKED = 2 };
int kvm_run_loop(struct kvm_vcpu *vcpu, const struct kvm_dispatch *d, struct kvm_exit_state *st,
		 _Atomic int *stop_request);

const char *kvm_guest_status_name(enum kvm_guest_status s);
/* "#UD invalid opcode" for vector 6, ... */
const char *kvm_exception_name(uint64_t vector);
/* One line for a case status: "guest fault: #UD invalid opcode (vector 6) at rip 0x100123". */
void kvm_exit_describe(const struct kvm_exit_state *st, char *buf, size_t len);
