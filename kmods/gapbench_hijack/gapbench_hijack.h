/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * gapbench_hijack's user interface, shared by the module and user space:
 * Hijack's system-call interposition as a module. An executive opens
 * /dev/gapbench_hijack, chooses system calls (GBHJ_IOC_SET_SYSCALLS) and
 * attaches processes (GBHJ_IOC_ATTACH). Each chosen call of an attached
 * process is held in the kernel and offered to the executive: read() gives a
 * struct gbhj_call, write() of a struct gbhj_reply decides it. PASS runs the
 * call as Linux would, EMULATE makes `value` its result without running it,
 * BLOCK fails it with -value (EPERM when value is 0). When the executive's
 * file closes, held calls run as Linux would and its processes are detached.
 */
#pragma once
#include <linux/ioctl.h>
#include <linux/types.h>

#define GBHJ_DEV "/dev/gapbench_hijack"
#define GBHJ_NR_MAX 512u
#define GBHJ_TARGETS_MAX 64u

enum { GBHJ_PASS = 0, GBHJ_EMULATE = 1, GBHJ_BLOCK = 2 };

struct gbhj_syscalls {
	__u64 mask[GBHJ_NR_MAX / 64];   /* bit N: system call N is diverted */
};

struct gbhj_attach {
	__s32 pid;      /* a process (thread group), not the executive's own */
	__u32 flags;    /* 0 */
};

struct gbhj_call {
	__u64 id;       /* for the reply */
	__s32 pid;      /* as the executive's pid namespace sees it */
	__s32 tid;
	__s64 nr;
	__u64 args[6];
	__u64 tsc;      /* when the kernel held the call */
};

struct gbhj_reply {
	__u64 id;
	__u32 action;   /* GBHJ_PASS, GBHJ_EMULATE, GBHJ_BLOCK */
	__u32 pad;      /* 0 */
	__s64 value;    /* EMULATE: the result; BLOCK: an errno 0..4095 */
};

struct gbhj_stats {
	__u64 held;
	__u64 passed;
	__u64 emulated;
	__u64 blocked;
	__u64 interrupted;   /* held calls of processes killed while held */
	__u64 targets;       /* attached processes now */
};

#define GBHJ_IOC_MAGIC 0xB9
#define GBHJ_IOC_SET_SYSCALLS _IOW(GBHJ_IOC_MAGIC, 0x01, struct gbhj_syscalls)
#define GBHJ_IOC_ATTACH _IOW(GBHJ_IOC_MAGIC, 0x02, struct gbhj_attach)
#define GBHJ_IOC_DETACH _IOW(GBHJ_IOC_MAGIC, 0x03, struct gbhj_attach)
#define GBHJ_IOC_STATS _IOR(GBHJ_IOC_MAGIC, 0x04, struct gbhj_stats)
