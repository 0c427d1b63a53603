/*
 * The packet stream's network: the case process moves into a private network
 * namespace (it dies with the case's processes, so nothing outlives a killed
 * case); the sender gets another one, joined to the case's by a veth pair.
 * Addresses are private to these namespaces. Where a namespace or the veth
 * cannot be made, loopback is the fallback and the reason is reported.
 */
#pragma once
#include <stdbool.h>
#include <sys/types.h>

#define PS_RECEIVER_ADDR "10.213.0.2"
#define PS_SENDER_ADDR "10.213.0.1"
#define PS_VETH_CASE "hjps0"
#define PS_VETH_SENDER "hjps1"
#define PS_MAC_CASE "02:00:0a:d5:00:02"     /* locally administered */
#define PS_MAC_SENDER "02:00:0a:d5:00:01"

/* Bring a namespace's loopback up (a new namespace starts with lo down). 0 or errno. */
int ps_loopback_up(void);
/* Run `ip ARGS...` quietly; 0 when it exited 0, else -1. */
int ps_run_ip(const char *const argv[]);
/* In the case's namespace: create the veth pair, both ends here. 0 or -1. */
int ps_veth_create(void);
/* Move the sender's end into pid's namespace and configure the case's end. 0 or -1. */
int ps_veth_hand_over(pid_t sender);
/* In the sender's namespace: configure its end. 0 or -1. */
int ps_veth_configure_sender(void);
