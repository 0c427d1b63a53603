/*
 * A co-runner thread of the master (host) on another CPU: it repeats one
 * step of work (an m_jump column, a round of the Darknet stand-in) until
 * stopped, counting progress, and pauses between steps while the
 * controller has not allowed it (the master descheduling its own thread:
 * experiments membus-host-throttled and lidar's host co-runner).
 */
#pragma once
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct vlib_host_corunner {
	uint64_t (*step)(void *arg);   /* one step; returns what it adds to progress */
	void *arg;
	int cpu;                       /* -1: unpinned */
	_Atomic uint32_t allowed;      /* futex word: 1 runs, 0 pauses between steps */
	_Atomic int stop;
	_Atomic uint64_t progress;
	_Atomic uint64_t steps;
	int pin_err;                   /* errno of pinning, 0 when pinned or unpinned on purpose */
	pthread_t thread;
	bool started;
};

/* Start it on `cpu`, SCHED_OTHER, allowed. 0, or an errno value. */
int vlib_host_corunner_start(struct vlib_host_corunner *c, int cpu, uint64_t (*step)(void *arg), void *arg);
void vlib_host_corunner_allow(struct vlib_host_corunner *c, bool allowed);
/* Stop and join; safe when never started. */
void vlib_host_corunner_stop(struct vlib_host_corunner *c);
