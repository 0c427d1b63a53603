/*
 * A private network for a case and a sender process, shared by the
 * packet-stream load and the mechanisms that receive packets (hijackcos):
 * the case process moves into a private network namespace (it dies with
 * the case's processes, so nothing outlives a killed case: no veth, no TUN
 * device, no namespace); the sender forks from it, gets another namespace
 * of its own, and the two are joined by a veth pair. Addresses are private
 * to these namespaces. Where a namespace or the veth cannot be made,
 * loopback is the fallback and the reason is given.
 *
 * The handshake (struct netns_sync lives in memory shared across fork):
 *   case:   netns_case_enter()                    namespace + veth pair
 *   case:   fork the sender
 *   sender: netns_sender_join()                   own namespace, waits for go
 *   case:   netns_case_hand_over()                moves the sender's end, go
 *   sender: (configured) sets its own ready flag; the case netns_wait_flag()s it
 */
#pragma once
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define NETNS_CASE_ADDR "10.213.0.2"
#define NETNS_SENDER_ADDR "10.213.0.1"
#define NETNS_VETH_CASE "hjps0"
#define NETNS_VETH_SENDER "hjps1"
#define NETNS_MAC_CASE "02:00:0a:d5:00:02"     /* locally administered */
#define NETNS_MAC_SENDER "02:00:0a:d5:00:01"
/*
 * Longer than PEER_READY_TIMEOUT_MS on purpose: creating a network namespace
 * and a veth pair can take seconds on a busy machine.
 */
#define NETNS_READY_MS 20000

enum netns_net {
	NETNS_VETH,              /* case and sender each in a private namespace, joined by the veth */
	NETNS_LOOPBACK_PRIVATE,  /* the case's private namespace, no veth: loopback there */
	NETNS_LOOPBACK_HOST,     /* no private namespace: the host's loopback */
};

struct netns_sync {
	_Atomic int unshared;    /* the sender is in its own namespace */
	_Atomic int go;          /* 1: its end of the veth is there; -1: give up */
	_Atomic int failed;      /* an errno from either side */
};

/* Bring a namespace's loopback up (a new namespace starts with lo down). 0 or errno. */
int netns_loopback_up(void);
/* Run `ip ARGS...` quietly; 0 when it exited 0, else -1. */
int netns_run_ip(const char *const argv[]);
/*
 * The case side, before forking the sender: move the calling process into a
 * private network namespace, bring its lo up and create the veth pair there.
 * Returns what it got; why says why not the veth ("" when the veth).
 */
enum netns_net netns_case_enter(char *why, size_t why_len);
/*
 * The sender side, after the fork, on NETNS_VETH only: its own namespace,
 * then wait for go and configure its end (address, up, a permanent
 * neighbour entry for the case's address, so no packet waits on ARP).
 * Returns 0 or an errno (also stored in sy->failed).
 */
int netns_sender_join(struct netns_sync *sy);
/*
 * The case side, on NETNS_VETH only: wait until the sender has its
 * namespace, move its end of the veth there, configure the case's end (with
 * a permanent neighbour entry for the sender's address) and say go.
 * Returns 0 or an errno; why says which step.
 */
int netns_case_hand_over(struct netns_sync *sy, pid_t sender, char *why, size_t why_len);
/* Wait up to NETNS_READY_MS until *flag is set or *failed holds an errno. 0 or that errno (ETIMEDOUT). */
int netns_wait_flag(_Atomic int *flag, _Atomic int *failed);
/*
 * No IPv6 on a device of the calling process's namespace (set before it
 * goes up): no router solicitations or MLD reports, so the only packets on
 * it are the experiment's. Both veth ends get it. Best effort: a kernel
 * without IPv6 sends none anyway.
 */
void netns_disable_ipv6(const char *dev);
/* Remove the case's end of the veth (and with it the pair); harmless when already gone. */
void netns_veth_delete(void);
/* Move the receive processing of the case's end of the veth (RPS) onto cpu: see netns.c. 0 or errno. */
int netns_veth_steer_rx(int cpu);
