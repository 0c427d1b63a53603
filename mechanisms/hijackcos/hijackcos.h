/*
 * hijackcos: the one config struct and the experiments' entry points (the
 * variant table and the realization on stock Linux are in hijackcos.c).
 */
#pragma once
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "mechanism.h"
#include "netns.h"
#include "peer.h"

struct hjc_cfg {
	int64_t interval_us;        /* after each reply, before the next packet */
	int64_t spinner_priority;   /* the medium-priority spinner's SCHED_FIFO priority */
	int64_t port;               /* UDP port the packets go to */
	bool steer_rx;              /* RPS: receive processing on the receiver's CPU */
};

/* response.c: Table III, udp-response and tun-response */
int hjc_response_probe(struct mech_ctx *ctx);
int hjc_udp_setup(struct mech_ctx *ctx);
int hjc_tun_setup(struct mech_ctx *ctx);
int hjc_cosnet_setup(struct mech_ctx *ctx);   /* the AOS via cosnet: aos_cosnet.c */
int hjc_aos_translator_setup(struct mech_ctx *ctx);   /* the AOS via the translator: aos_cosnet.c */
int hjc_response_measure(struct mech_ctx *ctx, struct samples *s);
void hjc_response_teardown(struct mech_ctx *ctx);
struct hjc_path;       /* response.c: what differs between the paths */
struct hjc_shared;     /* response.c: the case and the sender process */

/* Between the receiver (the measuring thread) and the spinner, on one CPU. */
struct hjc_spin {
	_Atomic uint64_t last_tsc;   /* the spinner's latest TSC reading */
	_Atomic int spinning;        /* 0 while it rests */
	_Atomic int rest;            /* the receiver asks it to rest once */
	_Atomic int stop, ready;
	uint64_t rest_ns;
};

/* ctx->priv. Zeroed by the harness: teardown works on a case that never set up. */
struct hjc_state {
	const struct hjc_path *path;
	struct hjc_cfg cfg;
	struct hjc_shared *sh;        /* peer_shared_alloc */
	struct hjc_spin spin;
	struct peer sender, spinner;
	enum netns_net net;
	char net_why[160];
	bool have_fd, tun_up;
	int fd;                       /* the receiver's UDP socket or TUN file */
	struct sockaddr_in from;      /* udp: the sender, from recvfrom() to the reply's sendto() */
	int rps_cpu;                  /* -1: receive processing not steered */
	uint64_t rps_before;
	uint64_t received, seq_gaps, not_spinning, other_packets, next_seq;
	uint64_t reply_sum_cycles, reply_n;
	uint8_t buf[2048];
};
