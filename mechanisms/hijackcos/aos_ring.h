/*
 * The translator's ring: wait-free, one producer and one consumer, in
 * memory shared between a Linux process and the AOS guest (both include
 * this header: host C and the freestanding guest). Fixed-size slots, a
 * power-of-two count; head is written by the producer only, tail by the
 * consumer only, each on its own cache line with the other side's cached
 * copy beside it. x86 is TSO, but the acquire/release pairs keep it right
 * for the compiler too.
 *
 * Producer: s = aos_ring_reserve(r) (NULL: full), fill s, aos_ring_publish(r).
 * Consumer: s = aos_ring_peek(r) (NULL: empty), read s, aos_ring_release(r).
 */
#pragma once
#include <stdint.h>

#define AOS_RING_SLOT_BYTES 2048u
#define AOS_RING_SLOT_HEADER 32u
#define AOS_RING_SLOT_DATA (AOS_RING_SLOT_BYTES - AOS_RING_SLOT_HEADER)   /* the largest message */
#define AOS_RING_STOP 1u   /* slot flag: the last message; the consumer stops */

struct aos_ring_slot {
	uint32_t len;            /* payload bytes */
	uint32_t flags;          /* AOS_RING_STOP */
	uint64_t seq;            /* 1, 2, ... per direction */
	uint64_t tsc;            /* the sender's TSC right before it wrote the slot */
	uint64_t sum;            /* the sender's checksum of data[0..len) */
	uint8_t data[AOS_RING_SLOT_DATA];
};
_Static_assert(sizeof(struct aos_ring_slot) == AOS_RING_SLOT_BYTES, "slot layout");

struct aos_ring {
	uint32_t slots;          /* a power of two */
	uint32_t pad0[15];
	uint64_t head;           /* producer: next slot to fill */
	uint64_t tail_cache;     /* producer's copy of tail */
	uint64_t pad1[6];
	uint64_t tail;           /* consumer: next slot to read */
	uint64_t head_cache;     /* consumer's copy of head */
	uint64_t pad2[6];
	struct aos_ring_slot slot[];
} __attribute__((aligned(64)));

static inline uint64_t aos_ring_bytes(uint32_t slots)
{
	return sizeof(struct aos_ring) + (uint64_t)slots * sizeof(struct aos_ring_slot);
}

/* slots: a power of two >= 2. Zeroes the indices (not the slots). */
static inline void aos_ring_init(struct aos_ring *r, uint32_t slots)
{
	r->slots = slots;
	r->head = r->tail_cache = r->tail = r->head_cache = 0;
}

static inline struct aos_ring_slot *aos_ring_reserve(struct aos_ring *r)
{
	if (r->head - r->tail_cache >= r->slots) {
		r->tail_cache = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
		if (r->head - r->tail_cache >= r->slots)
			return 0;
	}
	return &r->slot[r->head & (r->slots - 1)];
}

static inline void aos_ring_publish(struct aos_ring *r)
{
	__atomic_store_n(&r->head, r->head + 1, __ATOMIC_RELEASE);
}

static inline struct aos_ring_slot *aos_ring_peek(struct aos_ring *r)
{
	if (r->tail == r->head_cache) {
		r->head_cache = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
		if (r->tail == r->head_cache)
			return 0;
	}
	return &r->slot[r->tail & (r->slots - 1)];
}

static inline void aos_ring_release(struct aos_ring *r)
{
	__atomic_store_n(&r->tail, r->tail + 1, __ATOMIC_RELEASE);
}

/* The payload both sides write and check: byte i of message seq. */
static inline uint8_t aos_ring_pattern(uint64_t seq, uint32_t i)
{
	return (uint8_t)(seq * 131u + i * 7u + 1u);
}

/* Fill data with the pattern; returns its checksum (what slot.sum carries). */
static inline uint64_t aos_ring_fill(uint8_t *data, uint32_t len, uint64_t seq)
{
	uint64_t sum = 0;
	for (uint32_t i = 0; i < len; i++) {
		data[i] = aos_ring_pattern(seq, i);
		sum = sum * 31u + data[i];
	}
	return sum;
}

/* 0 when data holds message seq's pattern and its checksum is sum; else the bad bytes (+1 for a bad sum). */
static inline uint64_t aos_ring_check(const uint8_t *data, uint32_t len, uint64_t seq, uint64_t sum)
{
	uint64_t bad = 0, s = 0;
	for (uint32_t i = 0; i < len; i++) {
		bad += data[i] != aos_ring_pattern(seq, i);
		s = s * 31u + data[i];
	}
	return bad + (s != sum);
}
