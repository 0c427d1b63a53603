/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * gapbench_translator's user interface, shared by the module and user space:
 * /dev/translator, Hijack^COS's translator as a device. open() makes endpoint
 * 0 of a new channel; GBTR_IOC_PEER on it returns a file for endpoint 1 (the
 * pair is the channel; before it exists read() and write() fail with
 * ENOTCONN, after the other end closed read() gives 0 and write() EPIPE). write() sends one message (1..GBTR_MSG_MAX bytes) to
 * the other endpoint, read() and poll() block for one; mmap() (read-only,
 * offset 0, up to GBTR_MAP_BYTES) shows the channel's two rings as they are.
 */
#pragma once
#ifdef __KERNEL__
#include <linux/ioctl.h>
#include <linux/types.h>
#else
#include <linux/ioctl.h>
#include <linux/types.h>
#endif

#define GBTR_DEV "/dev/translator"
#define GBTR_SLOTS 63u
#define GBTR_SLOT_BYTES 256u
#define GBTR_MSG_MAX (GBTR_SLOT_BYTES - 8u)
#define GBTR_RING_BYTES 16384u
#define GBTR_MAP_BYTES (2u * GBTR_RING_BYTES)

struct gbtr_slot {
	__u32 len;
	__u32 seq;     /* the ring's message number, from 0 */
	__u8 data[GBTR_MSG_MAX];
};

/* ring[0] carries endpoint 0 -> 1, ring[1] endpoint 1 -> 0 */
struct gbtr_ring {
	__u32 head;    /* messages written, ever */
	__u32 tail;    /* messages read, ever */
	__u32 depth;   /* usable slots (GBTR_IOC_SET_DEPTH) */
	__u32 pad[13];
	struct gbtr_slot slot[GBTR_SLOTS];
	__u8 pad_end[GBTR_RING_BYTES - 64 - GBTR_SLOTS * GBTR_SLOT_BYTES];   /* ring[1] at GBTR_RING_BYTES */
};

struct gbtr_info {
	__u32 endpoint;    /* 0 or 1 */
	__u32 rx_offset;   /* of the ring this endpoint reads, in the mapping */
	__u32 tx_offset;
	__u32 slots;
	__u32 slot_bytes;
	__u32 msg_max;
};

#define GBTR_IOC_MAGIC 0xB7
/* endpoint 0 only, once: a new O_CLOEXEC file for endpoint 1 (the return value) */
#define GBTR_IOC_PEER _IO(GBTR_IOC_MAGIC, 0x01)
#define GBTR_IOC_INFO _IOR(GBTR_IOC_MAGIC, 0x02, struct gbtr_info)
/* usable slots of the ring this endpoint sends on: 1..GBTR_SLOTS, else EINVAL */
#define GBTR_IOC_SET_DEPTH _IOW(GBTR_IOC_MAGIC, 0x03, __u32)
