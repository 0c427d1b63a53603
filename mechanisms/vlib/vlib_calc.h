/*
 * Pure arithmetic the vlib experiments report (no KVM, no I/O), so that unit
 * tests cover it on a machine without /dev/kvm: order statistics of a
 * series, the overhead over the KVM floor, and the slowdown of a real-time
 * task against its alone speed.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The value at quantile q (0..1, nearest rank) of v[0..n); sorts v. 0 when n == 0. */
uint64_t vlib_quantile(uint64_t *v, size_t n, double q);

/* a / b, 0 when b == 0. */
double vlib_ratio(uint64_t a, uint64_t b);

/*
 * The report's line for the KVM floor: "exit p50 X + entry p50 Y = Z cycles
 * vs the KVM floor's round trip F cycles (p50, same process): Z/F x". Into
 * buf (len bytes); returns the ratio.
 */
double vlib_floor_note(char *buf, size_t len, uint64_t exit_p50, uint64_t entry_p50, uint64_t floor_p50);

/* Slowdown of `with` against `alone` in percent (cycles per unit of work: higher = slower). */
double vlib_slowdown_pct(double with, double alone);

/*
 * One KVM_RUN of the stamping guest: host stamps around the ioctl, and the
 * guest's stamps (already on the host's time base) taken in that same run:
 * after it was resumed from its previous hypercall, and before the hypercall
 * that ended the run. True when they are ordered h_enter < g_entry <= g_exit
 * < h_exit; then *exit and *entry are the two transitions of this run, and
 * exit + entry never exceeds the run's round trip.
 */
struct vlib_run_stamps {
	uint64_t h_enter, g_entry, g_exit, h_exit;
};
bool vlib_exit_entry(const struct vlib_run_stamps *r, uint64_t *exit_cycles, uint64_t *entry_cycles);
