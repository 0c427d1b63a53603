/* Exit decoding, hypercall dispatch and how a guest ended. */
#include "kvm_runloop.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

int kvm_dispatch_add(struct kvm_dispatch *d, uint16_t port, kvm_hc_fn fn, void *arg)
{
	if (d->n >= KVM_DISPATCH_MAX)
		return -1;
	d->entry[d->n].port = port;
	d->entry[d->n].fn = fn;
	d->entry[d->n].arg = arg;
	d->n++;
	return 0;
}

const char *kvm_guest_status_name(enum kvm_guest_status s)
{
	switch (s) {
	case KVM_GUEST_RUNNING: return "running";
	case KVM_GUEST_STOPPED: return "stopped";
	case KVM_GUEST_FAULT: return "guest fault";
	case KVM_GUEST_TRIPLE_FAULT: return "guest triple fault";
	case KVM_GUEST_UNEXPECTED_EXIT: return "unexpected exit";
	case KVM_GUEST_UNRESPONSIVE: return "guest unresponsive";
	case KVM_GUEST_HOST_ERROR: return "KVM_RUN failed";
	}
	return "?";
}

const char *kvm_exception_name(uint64_t vector)
{
	static const char *const names[] = {
		[0] = "#DE divide error", [1] = "#DB debug", [2] = "NMI", [3] = "#BP breakpoint",
		[4] = "#OF overflow", [5] = "#BR bound range", [6] = "#UD invalid opcode",
		[7] = "#NM device not available", [8] = "#DF double fault", [10] = "#TS invalid TSS",
		[11] = "#NP segment not present", [12] = "#SS stack fault", [13] = "#GP general protection",
		[14] = "#PF page fault", [16] = "#MF x87 error", [17] = "#AC alignment check",
		[18] = "#MC machine check", [19] = "#XM SIMD error", [20] = "#VE virtualization",
		[21] = "#CP control protection",
	};
	if (vector < sizeof(names) / sizeof(names[0]) && names[vector])
		return names[vector];
	return "exception";
}

void kvm_exit_describe(const struct kvm_exit_state *st, char *buf, size_t len)
{
	const char *name = kvm_guest_status_name(st->status);
	switch (st->status) {
	case KVM_GUEST_FAULT:
		snprintf(buf, len, "%s: %s (vector %llu) at rip %#llx, error code %#llx, cr2 %#llx", name,
			 kvm_exception_name(st->fault.vector), (unsigned long long)st->fault.vector,
			 (unsigned long long)st->fault.rip, (unsigned long long)st->fault.error_code,
			 (unsigned long long)st->fault.cr2);
		break;
	case KVM_GUEST_STOPPED:
		snprintf(buf, len, "%s with code %u", name, st->stop_code);
		break;
	default:
		snprintf(buf, len, "%s%s%s", name, st->detail[0] ? ": " : "", st->detail);
	}
}

static int end(struct kvm_exit_state *st, enum kvm_guest_status s)
{
	st->status = s;
	return KVM_HC_END;
}

/* A hypercall: an OUT (CPL 0) or a write to the MMIO window (CPL 3), decoded alike. */
static int hypercall(struct kvm_vcpu *vcpu, const struct kvm_dispatch *d, struct kvm_exit_state *st,
		     uint16_t port, uint32_t value, const char *how)
{
	struct kvm_mailbox *mb = kvm_vm_mailbox(vcpu->vm);
	switch (port) {
	case KVM_HC_LOG:
		mb->text[KVM_MAILBOX_TEXT - 1] = '\0';
		fprintf(stderr, "guest: %s\n", mb->text);
		return KVM_HC_CONTINUE;
	case KVM_HC_STOP:
		st->stop_code = value;
		return end(st, KVM_GUEST_STOPPED);
	case KVM_HC_FAULT:
		st->fault = mb->fault;
		return end(st, KVM_GUEST_FAULT);
	case KVM_HC_STAMP:
		return KVM_HC_RETURN;
	default:
		break;
	}
	for (unsigned i = 0; i < d->n; i++)
		if (d->entry[i].port == port)
			return d->entry[i].fn(vcpu, d->entry[i].arg, value);
	snprintf(st->detail, sizeof(st->detail), "%s to port %#x that no handler serves", how, port);
	return end(st, KVM_GUEST_UNEXPECTED_EXIT);
}

static int handle_io(struct kvm_vcpu *vcpu, const struct kvm_dispatch *d, struct kvm_exit_state *st)
{
	struct kvm_run *run = vcpu->run;
	uint32_t value = 0;
	if (run->io.direction == KVM_EXIT_IO_OUT && run->io.count == 1 && run->io.size <= sizeof(value))
		memcpy(&value, (uint8_t *)run + run->io.data_offset, run->io.size);
	return hypercall(vcpu, d, st, run->io.port, value, run->io.direction == KVM_EXIT_IO_OUT ? "OUT" : "IN");
}

static int handle_mmio(struct kvm_vcpu *vcpu, const struct kvm_dispatch *d, struct kvm_exit_state *st)
{
	struct kvm_run *run = vcpu->run;
	uint64_t gpa = run->mmio.phys_addr;
	if (run->mmio.is_write && run->mmio.len == 4 && gpa >= KVM_HC_MMIO_GPA &&
	    gpa - KVM_HC_MMIO_GPA < KVM_HC_MMIO_BYTES && gpa % 4 == 0) {
		uint32_t value;
		memcpy(&value, run->mmio.data, sizeof(value));
		return hypercall(vcpu, d, st, (uint16_t)((gpa - KVM_HC_MMIO_GPA) / 4), value, "MMIO hypercall");
	}
	snprintf(st->detail, sizeof(st->detail), "MMIO %s at unbacked guest-physical %#llx",
		 run->mmio.is_write ? "write" : "read", (unsigned long long)gpa);
	return end(st, KVM_GUEST_UNEXPECTED_EXIT);
}

int kvm_handle_exit(struct kvm_vcpu *vcpu, const struct kvm_dispatch *d, struct kvm_exit_state *st)
{
	struct kvm_run *run = vcpu->run;
	st->exit_reason = run->exit_reason;
	st->exits++;
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		return handle_io(vcpu, d, st);
	case KVM_EXIT_SHUTDOWN:
		snprintf(st->detail, sizeof(st->detail), "KVM_EXIT_SHUTDOWN (the vCPU reset itself)");
		return end(st, KVM_GUEST_TRIPLE_FAULT);
	case KVM_EXIT_MMIO:
		return handle_mmio(vcpu, d, st);
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(st->detail, sizeof(st->detail), "KVM_EXIT_FAIL_ENTRY, hardware reason %#llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		return end(st, KVM_GUEST_UNEXPECTED_EXIT);
	case KVM_EXIT_INTERNAL_ERROR: {
		struct kvm_regs regs;
		uint64_t rip = ioctl(vcpu->fd, KVM_GET_REGS, &regs) == 0 ? regs.rip : 0;
		snprintf(st->detail, sizeof(st->detail), "KVM_EXIT_INTERNAL_ERROR, suberror %u (%s) at rip %#llx",
			 run->internal.suberror, run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
			 "emulation failed" : "see linux/kvm.h", (unsigned long long)rip);
		return end(st, KVM_GUEST_UNEXPECTED_EXIT);
	}
	default:
		snprintf(st->detail, sizeof(st->detail), "exit reason %u", run->exit_reason);
		return end(st, KVM_GUEST_UNEXPECTED_EXIT);
	}
}

int kvm_run_loop(struct kvm_vcpu *vcpu, const struct kvm_dispatch *d, struct kvm_exit_state *st,
		 _Atomic int *stop_request)
{
	for (;;) {
		int req = stop_request ? atomic_load(stop_request) : KVM_GUEST_RUNNING;
		if (req != KVM_GUEST_RUNNING) {
			st->status = (enum kvm_guest_status)req;
			return KVM_LOOP_ENDED;
		}
		int rc = kvm_vcpu_run(vcpu);
		if (rc < 0) {
			snprintf(st->detail, sizeof(st->detail), "%.150s", vcpu->why);
			st->status = KVM_GUEST_HOST_ERROR;
			return KVM_LOOP_ENDED;
		}
		if (rc == 1) {
			req = stop_request ? atomic_load(stop_request) : KVM_GUEST_RUNNING;
			if (req != KVM_GUEST_RUNNING)
				continue;   /* ends above */
			return KVM_LOOP_KICKED;
		}
		int action = kvm_handle_exit(vcpu, d, st);
		if (action == KVM_HC_RETURN)
			return KVM_LOOP_RETURNED;
		if (action == KVM_HC_END)
			return KVM_LOOP_ENDED;
	}
}
