/*
 * Pure arithmetic the vlib experiments report (no KVM, no I/O), so that unit
 * tests cover it on a machine without /dev/kvm: order statistics of a
 * series, the overhead over the KVM floor, and the slowdown of a real-time
 * task against its alone speed.
 */
#pragma once
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
