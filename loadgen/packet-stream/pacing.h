/*
 * Pacing maths of the packet-stream sender: packets go out on an absolute
 * schedule (packet k at start + k / total_rate), never "one interval after
 * the previous send", so a late wake-up does not slow the stream down; a
 * packet already more than `late_ns` behind its time when the sender gets to
 * it is not sent but counted as missed (coordinated omission made visible).
 * Pure functions: unit-tested in tests/test_pacing.c.
 */
#pragma once
#include <stdint.h>

/* Send time of packet k, ns after the start. */
uint64_t ps_send_offset_ns(uint64_t k, uint64_t total_rate_per_s);
/* Packets due at `elapsed_ns` after the start (those with send time <= elapsed). */
uint64_t ps_due(uint64_t elapsed_ns, uint64_t total_rate_per_s);
/*
 * First packet worth sending at `elapsed_ns`, given that `next` is the first
 * not yet handled: packets due earlier than elapsed - late_ns are skipped.
 */
uint64_t ps_first_on_time(uint64_t next, uint64_t elapsed_ns, uint64_t late_ns, uint64_t total_rate_per_s);
/* Stream of packet k: round robin. */
static inline unsigned ps_stream_of(uint64_t k, unsigned streams)
{
	return (unsigned)(k % streams);
}
