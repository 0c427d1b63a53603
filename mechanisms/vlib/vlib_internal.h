/* Shared between the vLib OS (vlib_os.c) and the client API (vlib_api.c). */
#pragma once
#include <pthread.h>

#include "../kvm/kvm_boot.h"
#include "../kvm/kvm_runloop.h"
#include "vlib.h"

#define VLIB_QUEUE_LEN 64

enum vlib_req_state { REQ_PENDING = 0, REQ_DONE = 1, REQ_CANCELLED = 2 };

struct vlib_channel {
	bool in_use;
	unsigned index;
	uint8_t *mem;                /* header page + data, host side */
	size_t mem_bytes;
	int slot;                    /* KVM memory slot, -1 until the guest maps it */
	uint64_t gpa;
};

struct vlib_req {
	_Atomic uint64_t ready;      /* ticket + 1 once published */
	_Atomic int state;           /* enum vlib_req_state */
	struct vlib_channel *ch;
	uint64_t seq;
	vlib_callback cb;            /* async only */
	void *cb_arg;
	uint64_t timeout_ns;         /* async only: enforced by the vCPU thread */
};

struct vlib_os {
	struct vlib_os_config cfg;
	struct kvm_guest guest;
	struct kvm_dispatch dispatch;
	struct kvm_exit_state exit;
	pthread_t thread;
	bool thread_started;
	_Atomic int started;         /* 1 running, -1 failed to start */
	_Atomic int stop;            /* enum kvm_guest_status to end with */
	_Atomic int ended;
	char end_text[200];

	pthread_mutex_t lock;        /* channels (not on the call path) */
	struct vlib_channel channels[VLIB_MAX_CHANNELS];

	_Atomic uint64_t tail;       /* next ticket */
	uint64_t head;               /* next ticket to serve (vCPU thread only) */
	_Atomic uint32_t queue_word; /* futex: bumped on every enqueue */
	struct vlib_req queue[VLIB_QUEUE_LEN];
	struct vlib_req *current;    /* being served */
	timer_t timer;               /* async timeouts: kicks the vCPU thread */
	bool timer_ok;

	_Atomic uint32_t desched;    /* futex: 1 = keep the vCPU out of guest mode */
	_Atomic int desched_by_timeout;
	_Atomic uint64_t parked_tsc;
	uint64_t served;
	uint64_t maps;
};

/* Enqueue a request on `ch`; returns the ticket. */
uint64_t vlib_os_enqueue(struct vlib_os *os, struct vlib_channel *ch, uint64_t seq, vlib_callback cb,
			 void *cb_arg, uint64_t timeout_ns, struct vlib_req **req);
/* A synchronous call timed out: the callee loses the caller's budget. */
void vlib_os_timeout_deschedule(struct vlib_os *os);
struct vlib_channel *vlib_os_channel_new(struct vlib_os *os, size_t data_bytes);
void vlib_os_channel_free(struct vlib_os *os, struct vlib_channel *ch);
