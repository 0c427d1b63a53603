/*
 * The Hijack^COS AOS guest: the AOS kernel (mechanisms/kvm/guest/aos.h)
 * with two user-level components in separate address spaces:
 *   A  the caller, and the translator's endpoint in the AOS;
 *   B  a null function, b_entry(arg) = its private seed + arg, run in its own
 *      address space (COS_COMP_B) or on A's tables (COS_COMP_B_SHARED).
 * boot->program (aos_abi.h) picks what A does at CPL 3:
 *   COS_PROG_INVOKE    commands from the host (COS_HC_CMD): timed loops,
 *                      samples in guest TSC cycles at COS_SAMPLES_GPA
 *   COS_PROG_TO_AOS    block in AOS_SYS_WAIT_IRQ; on each wake-up stamp the
 *                      TSC, drain the process->AOS ring, check sequence and
 *                      payload, acknowledge (ack_seq, ack_tsc)
 *   COS_PROG_FROM_AOS  after each acknowledgement and gap_cycles: stamp,
 *                      write a message into the AOS->process ring, ring the
 *                      doorbell (COS_HC_DOORBELL, an ioeventfd in the host)
 *   COS_PROG_COSNET    block in AOS_SYS_WAIT_IRQ; on each wake-up stamp the
 *                      TSC, take each packet the VMM's I/O thread put in the
 *                      ring, turn it into its reply (packet.c, the same code
 *                      as the Linux TUN path's), put that in the other ring
 *                      with the stamp, ring the doorbell
 */
#include "aos.h"
#include "aos_abi.h"
#include "packet.h"

#define PRIV(va) ((volatile struct cos_private *)(uintptr_t)(va))

/* B's stack when it runs on A's tables: in the image (mapped in every space). */
static uint8_t b_shared_stack[16384] __attribute__((aligned(16)));

__attribute__((noreturn)) static void b_entry(uint64_t arg)
{
	volatile struct cos_private *p = PRIV(AOS_PRIVATE_VA);
	p->b_calls++;
	aos_return(p->seed + arg);
}

static uint64_t *samples(void)
{
	return (uint64_t *)(uintptr_t)COS_SAMPLES_GPA;
}

/* Where struct cos_shared and the rings are (boot->arg[0], else COS_SHARED_GPA). */
static uint64_t shared_gpa = COS_SHARED_GPA;

static struct cos_shared *shared(void)
{
	return (struct cos_shared *)(uintptr_t)shared_gpa;
}

static struct aos_ring *ring_to_aos(void)
{
	return (struct aos_ring *)(uintptr_t)(shared_gpa + COS_TO_AOS_RING_OFF);
}

static struct aos_ring *ring_from_aos(void)
{
	return (struct aos_ring *)(uintptr_t)(shared_gpa + COS_FROM_AOS_RING_OFF);
}

/* One timed loop of a command; results in the mailbox. */
static void run_command(uint64_t cmd, uint64_t n, uint64_t expect_seed)
{
	struct kvm_mailbox *mb = rt_mailbox();
	uint64_t *out = samples(), wrong = 0, last = 0;
	uint64_t seed = PRIV(AOS_PRIVATE_VA)->seed;   /* A's own */
	if (n > COS_SAMPLES_MAX)
		n = COS_SAMPLES_MAX;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t t0, t1;
		switch (cmd) {
		case COS_CMD_INVOKE:
		case COS_CMD_INVOKE_SHARED: {
			unsigned comp = cmd == COS_CMD_INVOKE ? COS_COMP_B : COS_COMP_B_SHARED;
			t0 = rt_tsc_start();
			last = aos_invoke(comp, i);
			t1 = rt_tsc_end();
			/* B in its own space returns its seed + i; on A's tables, A's (the host says which). */
			wrong += last != expect_seed + i;
			out[i] = t1 - t0;
			break;
		}
		case COS_CMD_SYSCALLS:
			t0 = rt_tsc_start();
			aos_syscall(AOS_SYS_NULL, 0, 0);
			last = aos_syscall(AOS_SYS_NULL, 0, 0);
			t1 = rt_tsc_end();
			wrong += last != 0;
			out[i] = t1 - t0;
			break;
		case COS_CMD_CR3:
			last = aos_syscall(AOS_SYS_CR3_PAIR, COS_COMP_B, 0);
			wrong += last == AOS_EINVAL;
			out[i] = last;
			break;
		default:
			wrong++;
		}
	}
	mb->arg[0] = wrong;
	mb->arg[1] = last;
	mb->arg[2] = seed;
}

__attribute__((noreturn)) static void command_server(void)
{
	struct kvm_mailbox *mb = rt_mailbox();
	mb->arg[0] = mb->arg[1] = mb->arg[2] = 0;
	for (;;) {
		rt_hypercall(COS_HC_CMD, 0);
		uint64_t cmd = mb->ret[0];
		if (cmd == COS_CMD_STOP)
			rt_stop(0);
		run_command(cmd, mb->ret[1], mb->ret[2]);
	}
}

/* Block in the AOS kernel until the next interrupt; the TSC at user level right after it. */
static uint64_t wait_wakeup(struct cos_shared *sh, uint64_t *seen)
{
	*seen = aos_syscall(AOS_SYS_WAIT_IRQ, *seen, 0);
	uint64_t t = rt_tsc_start();
	sh->wakeups++;
	return t;
}

__attribute__((noreturn)) static void translator_receiver(void)
{
	struct cos_shared *sh = shared();
	struct aos_ring *r = ring_to_aos();
	uint64_t seen = 0, expect = 1;
	__atomic_store_n(&sh->ready, 1, __ATOMIC_RELEASE);
	for (;;) {
		uint64_t t = wait_wakeup(sh, &seen);
		struct aos_ring_slot *s;
		while ((s = aos_ring_peek(r)) != 0) {
			uint64_t seq = s->seq;
			uint32_t flags = s->flags;
			sh->seq_errors += seq != expect;
			expect = seq + 1;
			sh->payload_errors += aos_ring_check(s->data, s->len < AOS_RING_SLOT_DATA ? s->len : 0, seq, s->sum);
			aos_ring_release(r);
			if (flags & AOS_RING_STOP)
				rt_stop(0);
			sh->received++;
			sh->ack_tsc = t;
			__atomic_store_n(&sh->ack_seq, seq, __ATOMIC_RELEASE);
		}
	}
}

__attribute__((noreturn)) static void translator_sender(void)
{
	struct cos_shared *sh = shared();
	struct aos_ring *r = ring_from_aos();
	uint32_t len = (uint32_t)sh->msg_bytes;
	if (len > AOS_RING_SLOT_DATA)
		len = AOS_RING_SLOT_DATA;
	__atomic_store_n(&sh->ready, 1, __ATOMIC_RELEASE);
	for (uint64_t seq = 1;; seq++) {
		/* One message at a time: wait for the host's acknowledgement of the previous one. */
		while (__atomic_load_n(&sh->ack_seq, __ATOMIC_ACQUIRE) != seq - 1)
			if (__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE))
				rt_stop(0);
			else
				__asm__ volatile("pause");
		uint64_t t0 = rt_tsc_start();
		while (rt_tsc_start() - t0 < sh->gap_cycles)
			__asm__ volatile("pause");
		if (__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE))
			rt_stop(0);
		struct aos_ring_slot *s = aos_ring_reserve(r);
		if (!s)
			rt_stop(3);   /* cannot be: one message at a time */
		s->tsc = rt_tsc_start();
		s->seq = seq;
		s->flags = 0;
		s->len = len;
		s->sum = aos_ring_fill(s->data, len, seq);
		aos_ring_publish(r);
		rt_hypercall(COS_HC_DOORBELL, (uint32_t)seq);
	}
}

__attribute__((noreturn)) static void cosnet_receiver(void)
{
	struct cos_shared *sh = shared();
	struct aos_ring *in = ring_to_aos();
	struct aos_ring *out = ring_from_aos();
	uint64_t seen = 0;
	__atomic_store_n(&sh->ready, 1, __ATOMIC_RELEASE);
	for (;;) {
		uint64_t t = wait_wakeup(sh, &seen);
		struct aos_ring_slot *s;
		while ((s = aos_ring_peek(in)) != 0) {
			if (s->flags & AOS_RING_STOP)
				rt_stop(0);
			struct aos_ring_slot *o = aos_ring_reserve(out);
			if (!o)
				rt_stop(5);   /* cannot be: one packet at a time */
			uint32_t len = s->len <= AOS_RING_SLOT_DATA ? s->len : 0, seq = 0;
			memcpy(o->data, s->data, len);
			int ours = hjc_udp_reflect(o->data, len, (uint16_t)sh->port, &seq) == 0;
			o->len = len;
			o->seq = seq;
			o->flags = ours ? 0 : COS_PKT_NOT_OURS;
			o->tsc = t;
			aos_ring_publish(out);
			aos_ring_release(in);
			sh->received++;
			rt_hypercall(COS_HC_DOORBELL, seq);
		}
	}
}

static void a_main(const struct kvm_boot_info *boot)
{
	switch (boot->program) {
	case COS_PROG_INVOKE:
		command_server();
	case COS_PROG_TO_AOS:
		translator_receiver();
	case COS_PROG_FROM_AOS:
		translator_sender();
	case COS_PROG_COSNET:
		cosnet_receiver();
	}
	rt_stop(2);
}

void guest_main(const struct kvm_boot_info *boot)
{
	static const uint64_t hide_b[] = { COS_PRIV_B_GPA }, hide_a[] = { COS_PRIV_A_GPA };
	if (boot->arg[0])
		shared_gpa = boot->arg[0];
	aos_init();
	uint64_t cr3_a = aos_pt_build(COS_PT_A_GPA, COS_PRIV_A_GPA, hide_b, 1);
	uint64_t cr3_b = aos_pt_build(COS_PT_B_GPA, COS_PRIV_B_GPA, hide_a, 1);
	aos_component_set(COS_COMP_A, cr3_a, 0, 0);
	aos_component_set(COS_COMP_B, cr3_b, b_entry, AOS_PRIVATE_VA + AOS_PRIVATE_BYTES);
	aos_component_set(COS_COMP_B_SHARED, cr3_a, b_entry,
			  (uint64_t)(uintptr_t)b_shared_stack + sizeof(b_shared_stack));
	if ((boot->program == COS_PROG_TO_AOS || boot->program == COS_PROG_COSNET) && aos_irq_enable(COS_IRQ_VECTOR) != 0)
		rt_stop(COS_STOP_NO_X2APIC);
	aos_switch(COS_COMP_A);
	rt_enter_user(a_main, boot);
}
