/*
 * The Hijack^COS AOS guest (guest/cos.c) and its host side (aos_*.c):
 * programs, commands, hypercall ports and where things live in the guest's
 * RAM (beyond the runtime's layout in mechanisms/kvm/kvm_abi.h). Constants
 * and plain structs only: included by the freestanding guest too.
 */
#pragma once
#include <stdint.h>

#include "aos_ring.h"
/* Include kvm_abi.h before this header (KVM_HC_USER_BASE): the guest through rt.h, the host through ../kvm/. */

#define COS_RAM_BYTES (32ull << 20)
#define COS_PT_A_GPA 0x800000ull            /* component tables, AOS_PT_BYTES each */
#define COS_PT_B_GPA 0x810000ull
#define COS_PRIV_A_GPA 0x1000000ull         /* A's private 2 MiB (AOS_PRIVATE_VA in A) */
#define COS_PRIV_B_GPA 0x1200000ull         /* B's */
#define COS_SAMPLES_GPA 0x1400000ull        /* guest-measured samples, uint64_t each */
#define COS_SAMPLES_MAX (0x400000ull / 8)
/*
 * struct cos_shared, then the two rings: in guest RAM at COS_SHARED_GPA, or
 * (boot->arg[0] != 0) at that guest-physical address, a memory slot the host
 * shares with another process (the Table III translator path's forwarder).
 */
#define COS_SHARED_GPA 0x1800000ull
#define COS_SHARED_BYTES 0x100000ull
#define COS_RING_SLOTS 64u
#define COS_TO_AOS_RING_OFF 0x1000ull
#define COS_FROM_AOS_RING_OFF (COS_TO_AOS_RING_OFF + 0x40000ull)
#define COS_TO_AOS_RING_GPA (COS_SHARED_GPA + COS_TO_AOS_RING_OFF)
#define COS_FROM_AOS_RING_GPA (COS_SHARED_GPA + COS_FROM_AOS_RING_OFF)
_Static_assert(sizeof(struct aos_ring) + COS_RING_SLOTS * sizeof(struct aos_ring_slot) <= 0x40000, "ring room");
_Static_assert(COS_FROM_AOS_RING_OFF + 0x40000ull <= COS_SHARED_BYTES, "shared room");

/* Components of the AOS. */
#define COS_COMP_A 0          /* the caller; the translator's endpoint */
#define COS_COMP_B 1          /* the callee, in its own address space */
#define COS_COMP_B_SHARED 2   /* the same code on A's tables (no page-table switch) */

/* A component's private page: what the host plants, what B counts. */
struct cos_private {
	uint64_t seed;        /* written by the host; B returns seed + arg */
	uint64_t b_calls;     /* incremented by B at every invocation in this space */
};

/* boot->program */
#define COS_PROG_INVOKE 1      /* command server (COS_HC_CMD) for Table I */
#define COS_PROG_TO_AOS 2      /* A receives translator messages (irqfd) */
#define COS_PROG_FROM_AOS 3    /* A sends translator messages (ioeventfd doorbell) */
#define COS_PROG_COSNET 4      /* A receives packets (irqfd), answers each with its reply (doorbell) */
#define COS_PKT_NOT_OURS 2u    /* COS_PROG_COSNET reply slot flag: not a packet of the experiment */

/* COS_PROG_INVOKE: A exits on COS_HC_CMD with mailbox.arg = results; the host puts the next command in mailbox.ret. */
#define COS_HC_CMD (KVM_HC_USER_BASE + 0)
#define COS_HC_DOORBELL (KVM_HC_USER_BASE + 1)   /* bound to an ioeventfd: AOS -> process */
enum cos_cmd {
	COS_CMD_INVOKE = 1,          /* ret[1] samples: one invocation of B(i) each, expected ret[2] + i */
	COS_CMD_INVOKE_SHARED = 2,   /* the same, of B_SHARED */
	COS_CMD_SYSCALLS = 3,        /* two null system calls each */
	COS_CMD_CR3 = 4,             /* two CR3 writes each (timed in the kernel) */
	COS_CMD_STOP = 5,
};
/* Results of a command: mailbox.arg[0] wrong return values, arg[1] the last one, arg[2] A's view of its private seed. */

#define COS_STOP_NO_X2APIC 4   /* stop code: COS_PROG_TO_AOS without an x2APIC */
#define COS_IRQ_VECTOR 0x41
#define COS_IRQ_GSI 24u

/* Translator bookkeeping beside the rings (COS_SHARED_GPA). */
struct cos_shared {
	uint64_t ready;           /* the guest's program is set up (1) */
	uint64_t msg_bytes;       /* from-aos: payload of each message */
	uint64_t gap_cycles;      /* from-aos: the sender's pause after each acknowledgement */
	uint64_t pad0[5];
	uint64_t ack_seq;         /* to-aos: the guest's last message read; from-aos: the host's */
	uint64_t ack_tsc;         /* to-aos: guest TSC when A, at user level, was back from the wait */
	uint64_t stop;            /* from-aos: the host asks the sender to stop */
	uint64_t received;        /* messages the receiver took */
	uint64_t seq_errors;      /* messages out of order */
	uint64_t payload_errors;  /* bad bytes or checksums */
	uint64_t wakeups;         /* to-aos, cosnet: returns from AOS_SYS_WAIT_IRQ */
	uint64_t port;            /* cosnet: the UDP port of the experiment's packets */
	/* host only: the translator path's forwarder hands each AOS reply's facts to the measuring thread */
	uint64_t fwd_seq, fwd_tsc, fwd_len, fwd_ours, fwd_errors;
};
