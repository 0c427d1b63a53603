/*
 * The vLib OS guest: a vLib server (Listing 1 of the paper) over the kvm
 * guest runtime, plus the small programs experiment 1 and the fault tests
 * use. vLib_listen blocks the whole guest in a hypercall until the master
 * hands it a request; the next vLib_listen signals completion.
 */
#include "corunner_core.h"
#include "lidar_core.h"
#include "mjump_core.h"
#include "rt.h"
#include "vlib_abi.h"

static uint64_t served;

/* Block until a request arrives; returns its channel (mapped on first use). */
static volatile struct vlib_chan_hdr *vLib_listen(volatile struct vlib_chan_hdr *previous)
{
	if (previous)
		previous->t_listen_enter = rt_tsc_end();
	rt_hypercall(VLIB_HC_LISTEN, 0);
	uint64_t t_return = rt_tsc_start();
	struct kvm_mailbox *mb = rt_mailbox();
	volatile struct vlib_chan_hdr *ch = (volatile struct vlib_chan_hdr *)(uintptr_t)mb->ret[VLIB_RET_HDR_GPA];
	uint64_t map_cycles = 0;
	if (mb->ret[VLIB_RET_NEEDS_MAP]) {
		uint64_t t0 = rt_tsc_start();
		mb->arg[0] = mb->ret[VLIB_RET_CHANNEL];
		rt_hypercall(VLIB_HC_MAP, 0);
		ch->map_cycles = 0;   /* the first touch of the new page */
		map_cycles = rt_tsc_end() - t0;
	}
	ch->map_cycles = map_cycles;
	ch->t_listen_return = t_return;
	return ch;
}

static void transform(volatile struct vlib_chan_hdr *ch)
{
	volatile uint8_t *data = (volatile uint8_t *)ch + VLIB_HDR_BYTES;
	uint64_t n = ch->data_bytes, key = ch->arg;
	for (uint64_t i = 0; i < n; i++)
		data[i] = (uint8_t)(data[i] ^ (uint8_t)(key + i));
}

static void mjump(volatile struct vlib_chan_hdr *ch)
{
	struct mjump_shape shape = { .size_bytes = ch->arg, .line_bytes = 64, .jump_bytes = 8192 };
	volatile uint8_t *array = (volatile uint8_t *)(uintptr_t)KVM_FREE_RAM_GPA;
	uint64_t writes = 0;
	for (uint64_t column = 0; !ch->stop; column++) {
		writes += mjump_column(array, &shape, column);
		ch->progress = writes;
	}
}

static struct corunner_mats corunner_mats;

static void corunner(volatile struct vlib_chan_hdr *ch)
{
	volatile uint64_t *buf = (volatile uint64_t *)(uintptr_t)KVM_FREE_RAM_GPA;
	uint64_t pos = 0, rounds = 0;
	corunner_init(&corunner_mats);
	while (!ch->stop) {
		corunner_round(&corunner_mats, buf, ch->arg, &pos);
		ch->progress = ++rounds;
	}
}

static void serve(volatile struct vlib_chan_hdr *ch)
{
	ch->served_index = served++;
	switch (ch->op) {
	case VLIB_OP_TRANSFORM:
		transform(ch);
		break;
	case VLIB_OP_NEVER_ANSWER:
		for (;;)
			__asm__ volatile("pause");
	case VLIB_OP_SPIN_STAMP:
		while (!ch->stop)
			ch->guest_now = rt_tsc_start();
		break;
	case VLIB_OP_MJUMP:
		mjump(ch);
		break;
	case VLIB_OP_CORUNNER:
		corunner(ch);
		break;
	default:
		break;
	}
}

static void misbehave(uint64_t fault)
{
	switch (fault) {
	case VLIB_FAULT_UD:
		__asm__ volatile("ud2");
		break;
	case VLIB_FAULT_PF:
		(void)*(volatile uint64_t *)(uintptr_t)(KVM_MAPPED_BYTES + 0x1000);
		break;
	case VLIB_FAULT_DE: {
		uint32_t eax = 1, edx = 0, zero = 0;
		__asm__ volatile("divl %2" : "+a"(eax), "+d"(edx) : "r"(zero));
		break;
	}
	case VLIB_FAULT_TRIPLE:
		rt_idt_clear();
		__asm__ volatile("ud2");
		break;
	case VLIB_FAULT_HANG:
		for (;;)
			__asm__ volatile("pause");
	}
}

/* The server loop runs at CPL 3, natively even where KVM emulates CPL 0 (rt.h). */
static void server_main(const struct kvm_boot_info *boot)
{
	(void)boot;
	volatile struct vlib_chan_hdr *ch = 0;
	for (;;) {
		ch = vLib_listen(ch);
		serve(ch);
	}
}

/* Experiment 1 from CPL 3 too: the exits, not emulated instructions around them, are timed. */
static void stamps_main(const struct kvm_boot_info *boot)
{
	for (uint64_t i = 0; i < boot->arg[0]; i++)
		rt_stamped_hypercall(KVM_HC_STAMP, 0);
	rt_stop(0);
}

/*
 * The exit ladder (exp_trip.c): the same STAMP hypercall forever, made the
 * way arg[0] says, so that each step adds one thing the substrate does.
 */
static void trip_main(const struct kvm_boot_info *boot)
{
	uint64_t how = boot->arg[0];
	volatile uint32_t *window = (volatile uint32_t *)(uintptr_t)(KVM_HC_MMIO_GPA + 4ull * KVM_HC_STAMP);
	for (;;) {
		if (how & VLIB_TRIP_STAMPS)
			rt_stamped_hypercall(KVM_HC_STAMP, 0);
		else if (how & (VLIB_TRIP_MMIO | VLIB_TRIP_USER))
			*window = 0;
		else
			rt_hypercall(KVM_HC_STAMP, 0);
	}
}

/* The lidar task (lidar_core.h): one period per exit, timed with the guest's own TSC. */
static void lidar_main(const struct kvm_boot_info *boot)
{
	(void)boot;
	struct kvm_mailbox *mb = rt_mailbox();
	const volatile uint8_t *scan = (const volatile uint8_t *)(uintptr_t)VLIB_LIDAR_IN_GPA;
	volatile uint8_t *dump = (volatile uint8_t *)(uintptr_t)VLIB_LIDAR_DUMP_GPA;
	uint64_t offset = 0;
	for (uint32_t period = 0;; period++) {
		rt_hypercall(VLIB_HC_LIDAR, 0);   /* returns when the next scan has arrived */
		uint64_t t0 = rt_tsc_start();
		enum lidar_decision d = lidar_period(scan, dump, &offset, period);
		uint64_t t1 = rt_tsc_end();
		mb->arg[0] = t0;
		mb->arg[1] = t1;
		mb->arg[2] = (uint64_t)d;
	}
}

void guest_main(const struct kvm_boot_info *boot)
{
	switch (boot->program) {
	case VLIB_PROG_SERVER:
		rt_enter_user(server_main, boot);
	case VLIB_PROG_STAMPS:
		rt_enter_user(stamps_main, boot);
	case VLIB_PROG_FAULT:
		misbehave(boot->arg[0]);
		rt_stop(1);
	case VLIB_PROG_TRIP:
		if (boot->arg[0] & VLIB_TRIP_USER)
			rt_enter_user(trip_main, boot);
		trip_main(boot);
		rt_stop(0);
	case VLIB_PROG_LIDAR:
		rt_enter_user(lidar_main, boot);
	default:
		rt_log_hex("unknown program", boot->program);
		rt_stop(2);
	}
}
