/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * gapbench_upcall's user interface, shared by the module and user space: a
 * ULS-style upcall. A thread registers a handler and a sandbox stack on its
 * own open of /dev/gapbench_upcall; GBUP_IOC_TRIGGER (now) or the timer
 * (asynchronously, at the next return to user mode) makes the kernel return
 * to user mode IN THE HANDLER with %rsp at the top of the sandbox stack, and
 * no signal frame anywhere: the interrupted context stays in the kernel until
 * the handler calls GBUP_IOC_RETURN, which resumes it as it was.
 *
 * The handler is entered as if called, with (%rsp + 8) 16-byte aligned and no
 * return address to go back to (it must end with GBUP_IOC_RETURN):
 *   %rdi  the trigger's argument, or the timer's expiry number
 *   %rsi  the TSC the kernel read at the event (ioctl entry, timer expiry)
 *   %rdx  GBUP_SRC_IOCTL or GBUP_SRC_TIMER
 *   %rcx  the registration's cookie
 * Only the general registers are saved: a handler of asynchronous upcalls
 * that touches vector registers saves them itself. All of them come back, each
 * with its 64 bits (%rax included: GBUP_IOC_RETURN does not hand it back as
 * the ioctl's int result but restores every register on the ioctl's way out).
 * A timer upcall still queued when the file's last descriptor is closed is
 * dropped, never delivered.
 */
#pragma once
#include <linux/ioctl.h>
#include <linux/types.h>

#define GBUP_DEV "/dev/gapbench_upcall"
#define GBUP_STACK_MIN 4096u
#define GBUP_STACK_MAX (64u << 20)
#define GBUP_TIMER_MIN_NS 10000u

enum { GBUP_SRC_IOCTL = 1, GBUP_SRC_TIMER = 2 };

struct gbup_register {
	__u64 handler;      /* user address */
	__u64 stack_base;   /* 16-byte aligned */
	__u64 stack_size;   /* GBUP_STACK_MIN..GBUP_STACK_MAX, a multiple of 16 */
	__u64 cookie;
	__u64 flags;        /* 0 */
};

struct gbup_timer {
	__u64 period_ns;    /* 0 stops; else >= GBUP_TIMER_MIN_NS */
	__u64 count;        /* expiries before it stops; 0 = until stopped */
};

struct gbup_stats {
	__u64 delivered;    /* entries into the handler */
	__u64 returned;     /* GBUP_IOC_RETURNs */
	__u64 timer_fired;
	__u64 missed;       /* timer expiries not delivered: an upcall running or one queued, or, at
			       delivery, the file closed, the thread exiting, or a system call whose
			       exit the signal code must restart */
};

#define GBUP_IOC_MAGIC 0xB8
#define GBUP_IOC_REGISTER _IOW(GBUP_IOC_MAGIC, 0x01, struct gbup_register)
#define GBUP_IOC_UNREGISTER _IO(GBUP_IOC_MAGIC, 0x02)
/* upcall now: this ioctl returns into the handler; on GBUP_IOC_RETURN it returns 0 to its caller */
#define GBUP_IOC_TRIGGER _IOW(GBUP_IOC_MAGIC, 0x03, __u64)
/* from the handler: resume the interrupted context (this call does not return) */
#define GBUP_IOC_RETURN _IO(GBUP_IOC_MAGIC, 0x04)
#define GBUP_IOC_TIMER _IOW(GBUP_IOC_MAGIC, 0x05, struct gbup_timer)
#define GBUP_IOC_STATS _IOR(GBUP_IOC_MAGIC, 0x06, struct gbup_stats)
