/*
 * Karma's host-side arithmetic, pure and unit-tested (tests/test_calc.c):
 * the soft/hard trigger decision, TSC deltas across wrap, the guest's TSC
 * offset, and TSC -> CLOCK_MONOTONIC for arming a timerfd at a guest
 * deadline.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

enum karma_trigger {
	KARMA_TRIGGER_HARD = 0,   /* arm the host timer; its expiry injects */
	KARMA_TRIGGER_SOFT = 1,   /* inject a synthetic event at once */
};

/* later - earlier as a signed count (correct across a 64-bit wrap). */
static inline int64_t karma_tsc_delta(uint64_t later, uint64_t earlier)
{
	return (int64_t)(later - earlier);
}

/*
 * Karma's soft trigger (section V-B, Figure 6): the guest asked, at guest
 * TSC request_tsc, for an event at `deadline`; when that delay is shorter
 * than one exit + entry (exit_entry_cycles), programming a timer cannot
 * beat injecting at once. A deadline already past is a soft trigger too.
 * soft_enabled false: always hard (the Figure's "hard trigger" curve).
 */
enum karma_trigger karma_trigger_decide(uint64_t deadline, uint64_t request_tsc, uint64_t exit_entry_cycles,
					bool soft_enabled);

/* Guest TSC = host TSC + offset (kvm_vcpu.h): the host TSC of a guest timestamp. */
static inline uint64_t karma_guest_to_host_tsc(uint64_t guest_tsc, int64_t tsc_offset)
{
	return guest_tsc - (uint64_t)tsc_offset;
}

/* cycles * 10^6 / khz, rounded down, without overflow for any 64-bit count. */
uint64_t karma_cycles_to_ns(uint64_t cycles, uint64_t khz);
/* ns * khz / 10^6, rounded up (a deadline never lands early). */
uint64_t karma_ns_to_cycles(uint64_t ns, uint64_t khz);

/*
 * The CLOCK_MONOTONIC time (ns) of host TSC `tsc`, given an anchor pair
 * (anchor_tsc, anchor_ns) read together just before: anchor_ns +
 * (tsc - anchor_tsc) in ns, the delta signed (a deadline may be past).
 * Rounded up; never below 1 (0 would disarm a timerfd).
 */
uint64_t karma_tsc_to_mono_ns(uint64_t tsc, uint64_t anchor_tsc, uint64_t anchor_ns, uint64_t khz);
