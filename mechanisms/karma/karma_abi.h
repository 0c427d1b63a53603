/*
 * The contract between the karma VMM (host, karma_vmm.c) and its guest
 * (guest/karma_guest.c): hypercall ports, boot arguments and the shared
 * page. Included by host C and by the freestanding guest.
 */
#pragma once
#include <stdint.h>

#include "../kvm/kvm_abi.h"

/* Hypercalls (port I/O exits, kvm_abi.h); arguments in the mailbox. */
#define KARMA_HC_ARM    (KVM_HC_USER_BASE + 0)  /* arg[0] deadline, arg[1] guest TSC at the request */
#define KARMA_HC_FLUSH  (KVM_HC_USER_BASE + 1)  /* arg[0] n latencies at KARMA_SAMPLES_GPA, arg[1..] counters; ret[0] = 1: stop */
#define KARMA_HC_CALIB  (KVM_HC_USER_BASE + 2)  /* arg[0] min, arg[1] median round trip of KARMA_HC_NOP (guest cycles);
						   ret[0] = latencies per flush (0: KARMA_ARG_BATCH) */
#define KARMA_HC_NOP    (KVM_HC_USER_BASE + 3)  /* nothing: the exit + entry round trip */

/* Guest-physical places (in the free RAM of kvm_abi.h). */
#define KARMA_SHARED_GPA  KVM_FREE_RAM_GPA
#define KARMA_SAMPLES_GPA (KVM_FREE_RAM_GPA + 0x1000)
#define KARMA_BATCH_MAX   1024u
#define KARMA_LOAD_GPA    (KVM_FREE_RAM_GPA + 0x100000)   /* the load program's buffer */

/* boot.program */
enum karma_program {
	KARMA_PROG_CYCLIC = 1,      /* the real-time loop */
	KARMA_PROG_LOAD_SPIN = 2,   /* another VM's load: spin */
	KARMA_PROG_LOAD_MEM = 3,    /* another VM's load: walk arg[0] bytes at KARMA_LOAD_GPA, a cache line a step */
};

/* How the cyclic program arms its timer (boot.arg[0]). */
enum karma_timer_mode {
	KARMA_TIMER_LAPIC = 0,        /* KVM's in-kernel LAPIC, TSC-deadline mode */
	KARMA_TIMER_PV = 1,           /* a KARMA_HC_ARM hypercall per period */
	KARMA_TIMER_PV_DEFERRED = 2,  /* the next deadline written to the shared page, no exit */
};

/* boot.arg[] of KARMA_PROG_CYCLIC */
enum {
	KARMA_ARG_MODE = 0,
	KARMA_ARG_PERIOD_CYCLES = 1,
	KARMA_ARG_NEAR_EVERY = 2,      /* every Nth period asks for a deadline near_cycles from now (0: never) */
	KARMA_ARG_NEAR_CYCLES = 3,
	KARMA_ARG_RELEASE_CYCLES = 4,  /* release path after the handler, interrupts on (0: none) */
	KARMA_ARG_DEV_WORK_CYCLES = 5, /* the device handler's work */
	KARMA_ARG_TPR = 6,             /* raise the TPR in the timer handler for the release path */
	KARMA_ARG_BATCH = 7,           /* latencies per KARMA_HC_FLUSH */
};

/* The device-interrupt load's vector: priority class 5, below the timer's 14. */
#define KARMA_DEV_VECTOR 0x50
/* TPR class during the release path: classes <= 13 held back, the timer (14) passes. */
#define KARMA_RT_TPR_CLASS 13

/* KARMA_HC_FLUSH's counters (mailbox arg[1..7]; more in struct karma_shared). */
enum {
	KARMA_FLUSH_N = 0,
	KARMA_FLUSH_PERIODS = 1,
	KARMA_FLUSH_MISSED = 2,
	KARMA_FLUSH_EARLY = 3,
	KARMA_FLUSH_DEV_IRQS = 4,        /* device interrupts handled */
	KARMA_FLUSH_DEV_IN_WINDOW = 5,   /* ... of those, during a release path */
	KARMA_FLUSH_HELD_BACK = 6,       /* release paths that ended with a device interrupt held back in the IRR */
	KARMA_FLUSH_HC_ARMS = 7,         /* KARMA_HC_ARM hypercalls made */
};

/* Faults injected for tests (option `fault`; the order is the option's). */
enum karma_fault {
	KARMA_FAULT_NONE = 0,
	KARMA_FAULT_STOP_ARMING = 1,   /* the guest arms no timer after stop_arming_after periods */
	KARMA_FAULT_CRASH_TIMER = 2,   /* the VMM's timer thread dies by SIGSEGV */
};

/* The page both sides see (KARMA_SHARED_GPA). */
struct karma_shared {
	uint64_t next_deadline;   /* deferred mode: karma_deferred.h */
	uint64_t fired;           /* PV modes: events raised by the VMM (incremented before each injection) */
	uint64_t entry_max_cycles;/* the timer handler's largest entry latency (release-path runs) */
	uint64_t lost;            /* at each flush: events raised whose interrupt never came (the guest's watchdog) */
	uint64_t skipped;         /* at each flush: releases already past when armed, skipped (rt_cyclic.h) */
	uint64_t stop_arming_after;   /* host -> guest before it runs: KARMA_FAULT_STOP_ARMING's period (0: never) */
};
