/*
 * What the vLib OS guest and the master (host) share: the hypercalls of
 * vLib_listen, the programs the guest image can run, and the layout of a
 * channel. A channel is one header page followed by the data area; the
 * client sees it at the address vLib_init returned (the data area), the
 * guest at the guest-physical address vLib_listen returned (the header).
 */
#pragma once
#include <stdint.h>

#include "../kvm/kvm_abi.h"

#define VLIB_HC_LISTEN (KVM_HC_USER_BASE + 0)  /* block until a request; mailbox.ret: see below */
#define VLIB_HC_MAP    (KVM_HC_USER_BASE + 1)  /* mailbox.arg[0] = channel index: map it now */

/* mailbox.ret[] after VLIB_HC_LISTEN returns */
#define VLIB_RET_HDR_GPA   0   /* guest-physical address of the channel header */
#define VLIB_RET_NEEDS_MAP 1   /* 1: first use, call VLIB_HC_MAP before touching it */
#define VLIB_RET_CHANNEL   2   /* channel index, for VLIB_HC_MAP */

/* boot_info.program */
enum vlib_program {
	VLIB_PROG_SERVER = 0,   /* the vLib server loop */
	VLIB_PROG_STAMPS = 1,   /* arg[0] timestamped exits, then stop (experiment 1) */
	VLIB_PROG_FAULT = 2,    /* arg[0] = enum vlib_fault: misbehave on purpose */
};

enum vlib_fault { VLIB_FAULT_UD, VLIB_FAULT_PF, VLIB_FAULT_DE, VLIB_FAULT_TRIPLE, VLIB_FAULT_HANG };

/* What a request asks the server to do (header.op). */
enum vlib_op {
	VLIB_OP_NOP = 0,          /* answer at once (the paper's empty call) */
	VLIB_OP_TRANSFORM = 1,    /* data[i] ^= (uint8_t)(arg + i) over data_bytes */
	VLIB_OP_NEVER_ANSWER = 2, /* spin forever: the client's timeout must fire */
	VLIB_OP_SPIN_STAMP = 3,   /* store the guest TSC into guest_now until `stop` */
	VLIB_OP_MJUMP = 4,        /* m_jump over arg bytes of guest RAM until `stop` */
};

#define VLIB_HDR_BYTES 4096u
#define VLIB_CHANNEL_GPA(index) (KVM_SLOT_WINDOW_GPA + (uint64_t)(index) * 0x400000ull)
#define VLIB_MAX_CHANNELS 32
#define VLIB_MAX_DATA_BYTES (1u << 20)

struct vlib_chan_hdr {
	/* written by the client before the call */
	uint32_t op;
	uint32_t stop;               /* SPIN_STAMP / MJUMP: the client asks the service to end */
	uint64_t arg;
	uint64_t data_bytes;
	uint64_t seq;                /* request number of this channel */
	uint64_t ticket;             /* arrival order at the vLib OS (set by the master) */
	/* written by the guest */
	uint64_t t_listen_return __attribute__((aligned(64)));  /* T2 starts (guest TSC) */
	uint64_t t_listen_enter;     /* T2 ends: the next vLib_listen entered */
	uint64_t served_index;       /* the guest's count of requests served before this one */
	uint64_t map_cycles;         /* first use: mapping hypercall + first touch, else 0 */
	uint64_t progress;           /* MJUMP: writes done */
	uint64_t guest_now;          /* SPIN_STAMP: latest guest TSC */
	/* written by the master's hypervisor side when the server listens again */
	uint64_t done_seq __attribute__((aligned(64)));
};
