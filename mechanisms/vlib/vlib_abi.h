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
	VLIB_PROG_TRIP = 3,     /* KVM_HC_STAMP hypercalls forever, as arg[0] (VLIB_TRIP_*) says (exit ladder) */
	VLIB_PROG_LIDAR = 4,    /* the lidar task: one period per VLIB_HC_LIDAR hypercall (exp_lidar.c) */
};

/* boot_info.arg[0] of VLIB_PROG_TRIP: how each hypercall is made */
#define VLIB_TRIP_USER   1u   /* from CPL 3 (the MMIO window: CPL 3 never uses OUT here) */
#define VLIB_TRIP_MMIO   2u   /* the MMIO window also at CPL 0 (without: OUT at CPL 0) */
#define VLIB_TRIP_STAMPS 4u   /* guest TSC stamps and mailbox stores around each (rt_stamped_hypercall) */

/*
 * VLIB_PROG_LIDAR: the guest times each period itself. Each VLIB_HC_LIDAR
 * exit returns when the host has written the next scan at VLIB_LIDAR_IN_GPA
 * (the device's data arriving); the guest decodes it, scans, dumps into its
 * 4 MiB buffer at VLIB_LIDAR_DUMP_GPA, and leaves its TSC before and after in
 * mailbox arg[0], arg[1] and its decision in arg[2] for the next exit.
 */
#define VLIB_HC_LIDAR (KVM_HC_USER_BASE + 2)
#define VLIB_LIDAR_IN_GPA 0x800000ull
#define VLIB_LIDAR_DUMP_GPA 0x1000000ull

enum vlib_fault { VLIB_FAULT_UD, VLIB_FAULT_PF, VLIB_FAULT_DE, VLIB_FAULT_TRIPLE, VLIB_FAULT_HANG };

/* What a request asks the server to do (header.op). */
enum vlib_op {
	VLIB_OP_NOP = 0,          /* answer at once (the paper's empty call) */
	VLIB_OP_TRANSFORM = 1,    /* data[i] ^= (uint8_t)(arg + i) over data_bytes */
	VLIB_OP_NEVER_ANSWER = 2, /* spin forever: the client's timeout must fire */
	VLIB_OP_SPIN_STAMP = 3,   /* store the guest TSC into guest_now until `stop` */
	VLIB_OP_MJUMP = 4,        /* m_jump over arg bytes of guest RAM until `stop` */
	VLIB_OP_CORUNNER = 5,     /* the Darknet stand-in (corunner_core.h) over arg bytes until `stop`; progress = rounds */
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
