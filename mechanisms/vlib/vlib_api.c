/* The client side of vLibOS: channels and (a)synchronous calls. */
#include "vlib_internal.h"

#include "tsc.h"

struct client_channel {
	struct vlib_os *os;
	struct vlib_channel *ch;
	uint64_t seq;
};

/* Channels belong to the thread that made them: one per port. */
static __thread struct client_channel clients[VLIB_MAX_PORTS];

/* Cycles per ns for timeouts, from the first vLib OS's TSC frequency. */
static uint64_t timeout_cycles(const struct vlib_os *os, uint64_t ns)
{
	return tsc_ns_to_cycles(ns, os->cfg.tsc_khz);
}

const char *vlib_strerror(int err)
{
	switch (err) {
	case VLIB_OK: return "ok";
	case VLIB_ETIMEDOUT: return "timed out";
	case VLIB_ENOPORT: return "no vLib OS on that port";
	case VLIB_ENOCHAN: return "no channel on that port (vLib_init first)";
	case VLIB_EGUEST: return "the vLib OS has ended";
	case VLIB_EINVAL: return "invalid argument";
	case VLIB_ENOMEM: return "out of memory or channels";
	}
	return "?";
}

static struct client_channel *client(int port)
{
	return port >= 0 && port < VLIB_MAX_PORTS ? &clients[port] : NULL;
}

int vLib_init(int port, size_t channel_size, void **channel_addr)
{
	struct client_channel *c = client(port);
	if (!c || channel_size == 0 || channel_size > VLIB_MAX_DATA_BYTES || c->ch)
		return VLIB_EINVAL;
	struct vlib_os *os = vlib_os_at_port(port);
	if (!os)
		return VLIB_ENOPORT;
	struct vlib_channel *ch = vlib_os_channel_new(os, channel_size);
	if (!ch)
		return VLIB_ENOMEM;
	c->os = os;
	c->ch = ch;
	c->seq = 0;
	*channel_addr = ch->mem + VLIB_HDR_BYTES;
	return VLIB_OK;
}

struct vlib_chan_hdr *vlib_channel_header(int port)
{
	struct client_channel *c = client(port);
	return c && c->ch ? (struct vlib_chan_hdr *)c->ch->mem : NULL;
}

int vLib_call(int port, uint64_t timeout_ns)
{
	struct client_channel *c = client(port);
	if (!c || !c->ch)
		return VLIB_ENOCHAN;
	struct vlib_os *os = c->os;
	if (atomic_load(&os->ended))
		return VLIB_EGUEST;
	struct vlib_chan_hdr *hdr = (struct vlib_chan_hdr *)c->ch->mem;
	_Atomic uint64_t *done = (_Atomic uint64_t *)&hdr->done_seq;
	uint64_t seq = ++c->seq;
	uint64_t deadline = timeout_ns ? tsc_start() + timeout_cycles(os, timeout_ns) : UINT64_MAX;
	struct vlib_req *req;
	vlib_os_enqueue(os, c->ch, seq, NULL, NULL, 0, &req);
	/* Busy-wait on the channel, like the paper's client in its remote state. */
	for (unsigned spins = 0;; spins++) {
		if (atomic_load_explicit(done, memory_order_acquire) == seq)
			return VLIB_OK;
		__builtin_ia32_pause();
		if ((spins & 63) != 0)
			continue;
		if (tsc_start() >= deadline) {
			int expected = REQ_PENDING;
			if (atomic_compare_exchange_strong(&req->state, &expected, REQ_CANCELLED)) {
				vlib_os_timeout_deschedule(os);
				return VLIB_ETIMEDOUT;
			}
			deadline = UINT64_MAX;   /* completed meanwhile: done_seq is on its way */
		}
		if (atomic_load(&os->ended))
			return VLIB_EGUEST;
	}
}

int vLib_async_call(int port, vlib_callback cb, void *cb_arg, uint64_t timeout_ns)
{
	struct client_channel *c = client(port);
	if (!c || !c->ch)
		return VLIB_ENOCHAN;
	if (!cb)
		return VLIB_EINVAL;
	if (atomic_load(&c->os->ended))
		return VLIB_EGUEST;
	struct vlib_req *req;
	vlib_os_enqueue(c->os, c->ch, ++c->seq, cb, cb_arg, timeout_ns, &req);
	return VLIB_OK;
}

int vLib_channel_destroy(int port)
{
	struct client_channel *c = client(port);
	if (!c || !c->ch)
		return VLIB_ENOCHAN;
	vlib_os_channel_free(c->os, c->ch);
	c->ch = NULL;
	c->os = NULL;
	return VLIB_OK;
}
