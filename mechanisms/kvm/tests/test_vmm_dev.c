/*
 * The VMM's devices on a real /dev/kvm (called from test_vmm.c):
 *  - x2APIC: a vCPU with id 3 enables x2APIC and reports its APIC ID
 *    (MSR 0x802), which must be 3, and version (0x803), whose low byte must
 *    be a local APIC version (0x10-0x15). SKIP (printed, not a failure)
 *    where KVM does not advertise x2APIC or refuses the enable.
 *  - ioeventfd: SIGNALS hypercalls on a port bound to an eventfd (OUT at
 *    CPL 0, and at CPL 3 the MMIO window address bound by
 *    kvm_vm_ioeventfd_mmio) add exactly SIGNALS to the eventfd's counter
 *    while the run loop sees exactly one exit (the final stop); the same
 *    program without the binding exits SIGNALS + 1 times (the control).
 *  - irqfd: GSI IRQ_GSI routed as an MSI to vector 0x40 of APIC 0; the
 *    guest (x2APIC on, a handler for 0x40, interrupts on) waits after an
 *    exit; the host writes the irqfd once and resumes; the guest must see
 *    exactly one interrupt, stamped after the host's write. SKIP irqfd
 *    (printed) where the routing or the irqfd is refused, or nothing
 *    arrives within the guest's timeout.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../kvm_boot.h"
#include "../kvm_runloop.h"
#include "check.h"
#include "test_vmm_dev.h"
#include "tsc.h"

extern const unsigned char kvm_test_guest_image[];
extern const size_t kvm_test_guest_image_bytes;

#define RAM_BYTES (16u << 20)

/* Like kvm_guest_boot, with a chosen vCPU id. */
static int boot_id(struct kvm_guest *g, uint32_t program, unsigned vcpu_id, uint64_t arg0)
{
	struct kvm_boot_info b = { .magic = KVM_BOOT_MAGIC, .program = program, .ram_bytes = RAM_BYTES,
				   .arg = { arg0 } };
	uint64_t entry = 0;
	memset(g, 0, sizeof(*g));
	g->vcpu.fd = -1;
	g->created = true;
	if (kvm_vm_create(&g->vm, RAM_BYTES) != 0 ||
	    kvm_vm_load_image(&g->vm, kvm_test_guest_image, kvm_test_guest_image_bytes, &b, &entry) != 0) {
		CHECK_MSG(0, "boot program %u: %s", program, g->vm.why);
		return -1;
	}
	if (kvm_vcpu_create(&g->vm, &g->vcpu, vcpu_id, entry) != 0) {
		CHECK_MSG(0, "vCPU %u for program %u: %s", vcpu_id, program, g->vcpu.why);
		return -1;
	}
	return 0;
}

struct report {
	unsigned calls;
	uint64_t arg[3];
};

static int on_report(struct kvm_vcpu *vcpu, void *arg, uint32_t value)
{
	(void)value;
	struct report *r = arg;
	memcpy(r->arg, kvm_vm_mailbox(vcpu->vm)->arg, sizeof(r->arg));
	r->calls++;
	return KVM_HC_CONTINUE;
}

#define X2APIC_VCPU_ID 3u

void test_x2apic(void)
{
	struct kvm_guest g;
	if (boot_id(&g, 7, X2APIC_VCPU_ID, 0) != 0) {
		kvm_guest_destroy(&g);
		return;
	}
	if (!g.vcpu.has_x2apic) {
		printf("SKIP x2apic: KVM_GET_SUPPORTED_CPUID does not advertise x2APIC (leaf 1 ECX bit 21)\n");
		kvm_guest_destroy(&g);
		return;
	}
	struct kvm_dispatch d = { 0 };
	struct report r = { 0 };
	struct kvm_exit_state st = { 0 };
	CHECK_MSG(kvm_dispatch_add(&d, KVM_HC_USER_BASE, on_report, &r) == 0, "dispatch");
	while (kvm_run_loop(&g.vcpu, &d, &st, NULL) != KVM_LOOP_ENDED)
		;
	char text[256];
	kvm_exit_describe(&st, text, sizeof(text));
	if (st.status == KVM_GUEST_FAULT && st.fault.vector == 13) {
		printf("SKIP x2apic: KVM advertises x2APIC but the guest's enable or MSR read took #GP (%s)\n", text);
	} else {
		CHECK_MSG(st.status == KVM_GUEST_STOPPED && st.stop_code == 21 && r.calls == 1,
			  "x2APIC guest: %s, %u report(s)", text, r.calls);
		CHECK_MSG(r.arg[1] == X2APIC_VCPU_ID, "x2APIC ID %#llx, vCPU id %u", (unsigned long long)r.arg[1],
			  X2APIC_VCPU_ID);
		unsigned version = (unsigned)(r.arg[2] & 0xff);
		CHECK_MSG(version >= 0x10 && version <= 0x15, "x2APIC version register %#llx",
			  (unsigned long long)r.arg[2]);
		printf("x2apic: vCPU %u reads x2APIC ID %llu, version register %#llx (version %#x, %llu LVT entries)\n",
		       X2APIC_VCPU_ID, (unsigned long long)r.arg[1], (unsigned long long)r.arg[2], version,
		       (unsigned long long)((r.arg[2] >> 16) & 0xff) + 1);
	}
	kvm_guest_destroy(&g);
}

#define SIGNALS 1000u
#define SIGNAL_PORT (KVM_HC_USER_BASE + 1)

static int count_signal(struct kvm_vcpu *vcpu, void *arg, uint32_t value)
{
	(void)vcpu;
	(void)value;
	(*(unsigned *)arg)++;
	return KVM_HC_CONTINUE;
}

/* Run program 8 (CPL 0) or 9 (CPL 3); bound: through an ioeventfd. Returns cycles per signal or 0. */
static double signal_run(uint32_t program, bool bound)
{
	const char *how = program == 8 ? "CPL 0 OUT" : "CPL 3 MMIO";
	struct kvm_guest g;
	double per_signal = 0;
	int efd = -1;
	if (boot_id(&g, program, 0, SIGNALS) != 0)
		goto out;
	struct kvm_dispatch d = { 0 };
	struct kvm_exit_state st = { 0 };
	unsigned handled = 0;
	if (bound) {
		efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		CHECK_MSG(efd >= 0, "eventfd: %s", strerror(errno));
		if (efd < 0)
			goto out;
		if (kvm_vm_ioeventfd(&g.vm, SIGNAL_PORT, efd, true) != 0 ||
		    kvm_vm_ioeventfd_mmio(&g.vm, KVM_HC_MMIO_GPA + 4ull * SIGNAL_PORT, 4, efd, true) != 0) {
			CHECK_MSG(0, "ioeventfd: %s", g.vm.why);
			goto out;
		}
	} else {
		CHECK_MSG(kvm_dispatch_add(&d, SIGNAL_PORT, count_signal, &handled) == 0, "dispatch");
	}
	while (kvm_run_loop(&g.vcpu, &d, &st, NULL) != KVM_LOOP_ENDED)
		;
	char text[256];
	kvm_exit_describe(&st, text, sizeof(text));
	uint32_t code = program == 8 ? 30 : 33;
	CHECK_MSG(st.status == KVM_GUEST_STOPPED && st.stop_code == code, "%s signals (%s): %s", how,
		  bound ? "ioeventfd" : "exits", text);
	if (bound) {
		uint64_t count = 0;
		CHECK_MSG(read(efd, &count, sizeof(count)) == (ssize_t)sizeof(count), "read eventfd: %s",
			  strerror(errno));
		CHECK_MSG(count == SIGNALS, "%s: eventfd counted %llu of %u guest writes", how,
			  (unsigned long long)count, SIGNALS);
		CHECK_MSG(st.exits == 1, "%s through an ioeventfd: %llu exits reached the run loop, expected 1 (stop)",
			  how, (unsigned long long)st.exits);
		CHECK_MSG(kvm_vm_ioeventfd(&g.vm, SIGNAL_PORT, efd, false) == 0 &&
			  kvm_vm_ioeventfd_mmio(&g.vm, KVM_HC_MMIO_GPA + 4ull * SIGNAL_PORT, 4, efd, false) == 0,
			  "ioeventfd deassign: %s", g.vm.why);
	} else {
		CHECK_MSG(handled == SIGNALS && st.exits == SIGNALS + 1, "%s without ioeventfd: %u handled, %llu exits",
			  how, handled, (unsigned long long)st.exits);
	}
	per_signal = (double)kvm_vm_mailbox(&g.vm)->arg[0] / SIGNALS;
out:
	if (efd >= 0)
		close(efd);
	kvm_guest_destroy(&g);
	return per_signal;
}

void test_ioeventfd(void)
{
	for (uint32_t program = 8; program <= 9; program++) {
		double exit_cycles = signal_run(program, false);
		double fd_cycles = signal_run(program, true);
		printf("ioeventfd: %s hypercall %.0f cycles through the eventfd, %.0f as an exit to the run loop "
		       "(guest TSC, mean of %u)\n", program == 8 ? "CPL 0 OUT" : "CPL 3 MMIO", fd_cycles, exit_cycles,
		       SIGNALS);
	}
}

#define IRQ_GSI 32u
#define IRQ_VECTOR 0x40
#define IRQ_TIMEOUT_CYCLES 3000000000ull   /* the guest's wait, about a second */

void test_irqfd(void)
{
	struct kvm_guest g;
	int efd = -1;
	if (boot_id(&g, 10, 0, IRQ_TIMEOUT_CYCLES) != 0)
		goto out;
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	CHECK_MSG(efd >= 0, "eventfd: %s", strerror(errno));
	if (efd < 0)
		goto out;
	if (kvm_vm_route_msi(&g.vm, IRQ_GSI, 0, IRQ_VECTOR) != 0 || kvm_vm_irqfd(&g.vm, IRQ_GSI, efd, true) != 0) {
		printf("SKIP irqfd: %s\n", g.vm.why);
		goto out;
	}
	struct kvm_dispatch d = { 0 };
	struct kvm_exit_state st = { 0 };
	char text[256];
	int rc = kvm_run_loop(&g.vcpu, &d, &st, NULL);
	if (rc != KVM_LOOP_RETURNED) {
		kvm_exit_describe(&st, text, sizeof(text));
		if (st.status == KVM_GUEST_STOPPED && st.stop_code == 40)
			printf("SKIP irqfd: the guest's CPUID has no x2APIC\n");
		else
			CHECK_MSG(0, "irqfd guest before the signal: %s", text);
		goto out;
	}
	uint64_t t_signal = tsc_start();
	uint64_t one = 1;
	CHECK_MSG(write(efd, &one, sizeof(one)) == (ssize_t)sizeof(one), "write irqfd: %s", strerror(errno));
	while (kvm_run_loop(&g.vcpu, &d, &st, NULL) != KVM_LOOP_ENDED)
		;
	kvm_exit_describe(&st, text, sizeof(text));
	struct kvm_mailbox *mb = kvm_vm_mailbox(&g.vm);
	CHECK_MSG(st.status == KVM_GUEST_STOPPED && st.stop_code == 41, "irqfd guest: %s", text);
	if (st.status != KVM_GUEST_STOPPED) {
		/* checked above */
	} else if (mb->arg[0] == 0) {
		printf("SKIP irqfd: the irqfd was accepted but no interrupt reached the guest within %llu cycles\n",
		       IRQ_TIMEOUT_CYCLES);
	} else {
		uint64_t seen = kvm_vcpu_guest_to_host_tsc(&g.vcpu, mb->arg[1]);
		CHECK_MSG(mb->arg[0] == 1, "one irqfd write, %llu interrupts", (unsigned long long)mb->arg[0]);
		CHECK_MSG(seen > t_signal, "interrupt handled before the irqfd write (host TSC %llu <= %llu)",
			  (unsigned long long)seen, (unsigned long long)t_signal);
		printf("irqfd: GSI %u -> MSI vector %#x on x2APIC 0; %llu cycles from the eventfd write to the guest's "
		       "handler (vCPU resumed after the write)\n", IRQ_GSI, IRQ_VECTOR,
		       (unsigned long long)(seen - t_signal));
		CHECK_MSG(kvm_vm_irqfd(&g.vm, IRQ_GSI, efd, false) == 0, "irqfd deassign: %s", g.vm.why);
	}
out:
	if (efd >= 0)
		close(efd);
	kvm_guest_destroy(&g);
}
