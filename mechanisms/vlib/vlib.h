/*
 * vLibOS on KVM: the master is the host (client threads in the harness), a
 * vLib OS is a guest running a vLib server (guest/server.c).
 *
 * The vLib OS side (vlib_os.c): vlib_os_start boots the guest and its vCPU
 * thread and registers it under a port. The guest blocks in vLib_listen (a
 * hypercall: its vCPU thread waits in the host, the vCPU does not run) until
 * a request arrives. Requests are served in FIFO (arrival) order.
 *
 * The client API (vlib_api.c), as in the paper:
 *   vLib_init(port, channel_size, &channel_addr)  a shared-memory channel,
 *                                                mapped into the guest on first use
 *   vLib_call(port, timeout_ns)                  synchronous: busy-waits on the
 *                                                channel, VLIB_ETIMEDOUT after timeout
 *   vLib_async_call(port, cb, arg, timeout_ns)   returns at once; cb runs on the
 *                                                vLib OS's host thread when done
 *   vLib_channel_destroy(port)
 * Channels belong to the calling thread (one per port per thread).
 */
#pragma once
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "vlib_abi.h"

enum vlib_err {
	VLIB_OK = 0,
	VLIB_ETIMEDOUT = -1,   /* the call's timeout expired; the vLib OS is descheduled */
	VLIB_ENOPORT = -2,     /* no vLib OS listens on that port */
	VLIB_ENOCHAN = -3,     /* no channel: vLib_init first */
	VLIB_EGUEST = -4,      /* the vLib OS has ended (fault, triple fault, stopped) */
	VLIB_EINVAL = -5,
	VLIB_ENOMEM = -6,
};
const char *vlib_strerror(int err);

#define VLIB_MAX_PORTS 8

typedef void (*vlib_callback)(int port, int err, void *arg);

int vLib_init(int port, size_t channel_size, void **channel_addr);
int vLib_call(int port, uint64_t timeout_ns);
int vLib_async_call(int port, vlib_callback cb, void *cb_arg, uint64_t timeout_ns);
int vLib_channel_destroy(int port);
/* The header of this thread's channel on `port` (op, arg, timestamps), or NULL. */
struct vlib_chan_hdr *vlib_channel_header(int port);

/* ---- the vLib OS (host side) ---- */

enum vlib_wait { VLIB_WAIT_POLL, VLIB_WAIT_BLOCK };

struct vlib_os_config {
	int port;
	uint64_t ram_bytes;
	uint32_t program;            /* enum vlib_program */
	uint64_t program_arg;
	int cpu;                     /* the vCPU thread's CPU, -1 = unpinned */
	int priority;                /* its SCHED_FIFO priority, 0 = SCHED_OTHER */
	enum vlib_wait wait;         /* how the blocked vLib OS waits for requests */
	uint64_t tsc_khz;
};

struct vlib_os;
/* Boot the guest, start its vCPU thread, register the port. NULL with why on failure. */
struct vlib_os *vlib_os_start(const struct vlib_os_config *cfg, char *why, size_t why_len);
/* Stop the vCPU thread, tear the VM down, free the port. Safe with NULL. */
void vlib_os_stop(struct vlib_os *os);
struct vlib_os *vlib_os_at_port(int port);

/*
 * Remote deschedule: force the vCPU out of guest mode and keep it out until
 * vlib_os_resume. Returns at once; vlib_os_parked_tsc tells when it left.
 */
void vlib_os_deschedule(struct vlib_os *os);
void vlib_os_resume(struct vlib_os *os);
/* Host TSC when the vCPU thread last parked (0 = not parked since the last resume). */
uint64_t vlib_os_parked_tsc(struct vlib_os *os);
/* Host TSC when the last kick signal reached the vCPU thread (out of guest mode). */
uint64_t vlib_os_kick_tsc(struct vlib_os *os);
/* True once the guest has ended; `buf` gets how (a case status). */
bool vlib_os_ended(struct vlib_os *os, char *buf, size_t len);
/* Guest TSC -> host TSC. */
uint64_t vlib_os_guest_to_host_tsc(struct vlib_os *os, uint64_t guest_tsc);
/* Facts for meta.json: TSC offset, exits, requests served. */
struct report;
void vlib_os_report(struct vlib_os *os, struct report *r);
