/*
 * The VMM on a real /dev/kvm (exit 77 = skip where it is missing):
 *  - a guest boots in long mode and stops with the code it chose;
 *  - host and guest timestamps share one time base: across 2000 exits,
 *    host stamp before KVM_RUN < guest stamp after entry <= guest stamp
 *    before the next exit < host stamp after KVM_RUN returns;
 *  - an exception ends the guest with a status naming it (#UD, #PF + cr2);
 *  - an empty IDT ends in a triple fault (KVM_EXIT_SHUTDOWN);
 *  - a guest that never exits is stopped by a watchdog (kick) as unresponsive;
 *  - user mode (rt_enter_user): the program runs at CPL 3, its hypercalls
 *    (MMIO window) work, it transforms every byte of a memory slot mapped
 *    at the channel window in under 1000 cycles per byte (at CPL 0 a
 *    software KVM such as PVM emulated each access, ~40k cycles), and a
 *    #UD there is reported like one at CPL 0;
 *  - teardown is safe twice;
 *  - x2APIC, ioeventfd and irqfd: see test_vmm_dev.c.
 */
#include <errno.h>
#include <sys/mman.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../kvm_boot.h"
#include "../kvm_runloop.h"
#include "check.h"
#include "test_vmm_dev.h"
#include "tsc.h"

extern const unsigned char kvm_test_guest_image[];
extern const size_t kvm_test_guest_image_bytes;

#define RAM_BYTES (16u << 20)
#define STAMPS 2000u

static int boot(struct kvm_guest *g, uint32_t program, uint64_t arg0)
{
	struct kvm_boot_info b = { .magic = KVM_BOOT_MAGIC, .program = program, .ram_bytes = RAM_BYTES, .arg = { arg0 } };
	char why[256];
	if (kvm_guest_boot(g, RAM_BYTES, kvm_test_guest_image, kvm_test_guest_image_bytes, &b, why, sizeof(why)) != 0) {
		CHECK_MSG(0, "boot program %u: %s", program, why);
		return -1;
	}
	return 0;
}

static void test_timebase(void)
{
	struct kvm_guest g;
	if (boot(&g, 0, STAMPS) != 0)
		return;
	int64_t offset = 1;
	CHECK_MSG(kvm_vcpu_read_tsc_offset(&g.vcpu, &offset) == 0, "read offset: %s", g.vcpu.why);
	CHECK_MSG(offset == g.vcpu.tsc_offset, "offset read back %lld, kept %lld", (long long)offset,
	      (long long)g.vcpu.tsc_offset);
	struct kvm_dispatch d = { 0 };
	struct kvm_exit_state st = { 0 };
	struct kvm_mailbox *mb = kvm_vm_mailbox(&g.vm);
	uint64_t h_enter_prev = 0, stamps = 0, bad = 0, min_exit = ~0ull, min_entry = ~0ull;
	for (;;) {
		uint64_t h_enter = tsc_start();
		int rc = kvm_vcpu_run(&g.vcpu);
		uint64_t h_exit = tsc_end();
		if (rc != 0) {
			CHECK_MSG(0, "KVM_RUN: %s", g.vcpu.why);
			break;
		}
		int action = kvm_handle_exit(&g.vcpu, &d, &st);
		if (action == KVM_HC_END)
			break;
		if (action != KVM_HC_RETURN)
			continue;   /* the log line */
		uint64_t g_exit = kvm_vcpu_guest_to_host_tsc(&g.vcpu, mb->tsc_before_exit);
		uint64_t g_entry = kvm_vcpu_guest_to_host_tsc(&g.vcpu, mb->tsc_after_entry);
		if (stamps > 0) {   /* g_entry belongs to the previous entry */
			bad += !(h_enter_prev < g_entry && g_entry <= g_exit && g_exit < h_exit);
			if (g_entry - h_enter_prev < min_entry)
				min_entry = g_entry - h_enter_prev;
		}
		if (g_exit < h_exit && h_exit - g_exit < min_exit)
			min_exit = h_exit - g_exit;
		h_enter_prev = h_enter;
		stamps++;
	}
	char text[256];
	kvm_exit_describe(&st, text, sizeof(text));
	CHECK_MSG(st.status == KVM_GUEST_STOPPED && st.stop_code == 7, "guest ended: %s", text);
	CHECK_MSG(stamps == STAMPS, "%llu stamped exits, expected %u", (unsigned long long)stamps, STAMPS);
	CHECK_MSG(bad == 0, "%llu of %llu exits out of order: host and guest TSC not comparable", (unsigned long long)bad,
	      (unsigned long long)stamps);
	printf("timebase: offset %lld, %llu exits in order; min exit %llu cycles, min entry %llu cycles\n",
	       (long long)g.vcpu.tsc_offset, (unsigned long long)stamps, (unsigned long long)min_exit,
	       (unsigned long long)min_entry);
	kvm_guest_destroy(&g);
	kvm_guest_destroy(&g);
}

static struct kvm_exit_state run_to_end(uint32_t program, uint64_t arg0)
{
	struct kvm_guest g;
	struct kvm_exit_state st = { 0 };
	if (boot(&g, program, arg0) == 0) {
		struct kvm_dispatch d = { 0 };
		while (kvm_run_loop(&g.vcpu, &d, &st, NULL) != KVM_LOOP_ENDED)
			;
	}
	kvm_guest_destroy(&g);
	return st;
}

#define SLOT_BYTES (64u << 10)

static void test_user_mode(void)
{
	struct kvm_guest g;
	struct kvm_exit_state st = { 0 };
	struct kvm_boot_info b = { .magic = KVM_BOOT_MAGIC, .program = 5, .ram_bytes = RAM_BYTES,
				   .arg = { KVM_SLOT_WINDOW_GPA, SLOT_BYTES } };
	char why[256];
	uint8_t *mem = mmap(NULL, SLOT_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK_MSG(mem != MAP_FAILED, "mmap slot");
	if (mem == MAP_FAILED)
		return;
	for (unsigned i = 0; i < SLOT_BYTES; i++)
		mem[i] = (uint8_t)(i * 7);
	if (kvm_guest_boot(&g, RAM_BYTES, kvm_test_guest_image, kvm_test_guest_image_bytes, &b, why, sizeof(why)) != 0) {
		CHECK_MSG(0, "boot user-mode program: %s", why);
	} else if (kvm_vm_map(&g.vm, KVM_SLOT_WINDOW_GPA, mem, SLOT_BYTES) < 0) {
		CHECK_MSG(0, "map slot: %s", g.vm.why);
	} else {
		struct kvm_dispatch d = { 0 };
		while (kvm_run_loop(&g.vcpu, &d, &st, NULL) != KVM_LOOP_ENDED)
			;
		char text[256];
		kvm_exit_describe(&st, text, sizeof(text));
		CHECK_MSG(st.status == KVM_GUEST_STOPPED && st.stop_code == 13, "user mode at CPL 3: %s", text);
		unsigned bad = 0;
		for (unsigned i = 0; i < SLOT_BYTES; i++)
			bad += mem[i] != (uint8_t)((uint8_t)(i * 7) ^ (uint8_t)i);
		CHECK_MSG(bad == 0, "%u of %u slot bytes not transformed", bad, SLOT_BYTES);
		uint64_t cycles = kvm_vm_mailbox(&g.vm)->arg[0];
		CHECK_MSG(cycles < 1000ull * SLOT_BYTES, "user-mode loop over a slot: %llu cycles per byte",
		      (unsigned long long)(cycles / SLOT_BYTES));
		printf("user mode: %.1f cycles per byte over a %u-byte slot\n", (double)cycles / SLOT_BYTES, SLOT_BYTES);
	}
	kvm_guest_destroy(&g);
	munmap(mem, SLOT_BYTES);
	char text[256];
	st = run_to_end(6, 0);
	kvm_exit_describe(&st, text, sizeof(text));
	CHECK_MSG(st.status == KVM_GUEST_FAULT && st.fault.vector == 6, "#UD at CPL 3: %s", text);
}

static void test_faults(void)
{
	char text[256];
	struct kvm_exit_state st = run_to_end(1, 0);
	kvm_exit_describe(&st, text, sizeof(text));
	CHECK_MSG(st.status == KVM_GUEST_FAULT && st.fault.vector == 6 && strstr(text, "#UD"), "#UD: %s", text);

	st = run_to_end(4, 0x100000000ull + 0x1234);
	kvm_exit_describe(&st, text, sizeof(text));
	CHECK_MSG(st.status == KVM_GUEST_FAULT && st.fault.vector == 14 && st.fault.cr2 == 0x100001234ull,
	      "#PF above the mapped 4 GiB: %s", text);

	st = run_to_end(2, 0);
	kvm_exit_describe(&st, text, sizeof(text));
	CHECK_MSG(st.status == KVM_GUEST_TRIPLE_FAULT && strstr(text, "triple fault"), "triple fault: %s", text);
}

struct hang {
	struct kvm_guest g;
	struct kvm_exit_state st;
	_Atomic int stop;
	_Atomic int bound;
};

static void *hang_thread(void *arg)
{
	struct hang *h = arg;
	struct kvm_dispatch d = { 0 };
	if (kvm_vcpu_bind_thread(&h->g.vcpu, -1, 0) != 0)
		return NULL;
	atomic_store(&h->bound, 1);
	while (kvm_run_loop(&h->g.vcpu, &d, &h->st, &h->stop) != KVM_LOOP_ENDED)
		;
	return NULL;
}

static void test_unresponsive(void)
{
	static struct hang h;
	if (boot(&h.g, 3, 0) != 0)
		return;
	pthread_t t;
	CHECK_MSG(pthread_create(&t, NULL, hang_thread, &h) == 0, "thread");
	while (!atomic_load(&h.bound))
		usleep(1000);
	usleep(100 * 1000);   /* the guest spins in guest mode */
	uint64_t t0 = tsc_start();
	atomic_store(&h.stop, KVM_GUEST_UNRESPONSIVE);
	kvm_vcpu_kick(&h.g.vcpu);
	pthread_join(t, NULL);
	uint64_t cycles = tsc_end() - t0;
	CHECK_MSG(h.st.status == KVM_GUEST_UNRESPONSIVE, "hang ended as %s", kvm_guest_status_name(h.st.status));
	CHECK_MSG(atomic_load(&h.g.vcpu.kick_handled_tsc) > t0, "kick signal handled after the kick");
	printf("unresponsive guest stopped %llu cycles after the kick\n", (unsigned long long)cycles);
	kvm_guest_destroy(&h.g);
}

int main(void)
{
	if (access("/dev/kvm", R_OK | W_OK) != 0) {
		printf("SKIP: needs /dev/kvm: %s\n", strerror(errno));
		return 77;
	}
	test_timebase();
	test_faults();
	test_unresponsive();
	test_user_mode();
	test_x2apic();
	test_ioeventfd();
	test_irqfd();
	if (check_failures)
		fprintf(stderr, "%d failure(s)\n", check_failures);
	return check_failures ? 1 : 0;
}
