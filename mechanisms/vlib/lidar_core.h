/*
 * The lidar task of vLibOS section 5.4 (Figures 8-10), compiled both into
 * the harness (the task on the host) and into the freestanding vLib OS
 * guest image (the task inside a guest): integers only, no libc.
 *
 * A scan is what a Hokuyo URG-04LX-like device sends every period: 240
 * angles (one per degree of its 240-degree field), each distance in mm in
 * the device's 3-character encoding (6 bits per character, plus 0x30), 720
 * bytes ("around 700 bytes" in the paper). One period of the task:
 *   decode   720 bytes -> 240 distances
 *   scan     an object nearer than LIDAR_NEAR_MM in the front sector? then
 *            the nearest opening (LIDAR_GAP_ANGLES consecutive clear angles)
 *            on the left (alpha degrees away) and on the right (beta):
 *            turn to the nearer one (Figure 8: alpha < beta, turn left)
 *   dump     the distances and the decision appended to a 4 MiB ring buffer
 *            (the buffer the paper's logger reads)
 * What the paper times is this, from the data's arrival to the decision.
 */
#pragma once
#include <stdint.h>

#define LIDAR_ANGLES 240
#define LIDAR_SCAN_BYTES (3 * LIDAR_ANGLES)
#define LIDAR_DUMP_BYTES (4u << 20)
#define LIDAR_NEAR_MM 600
#define LIDAR_FRONT_HALF 15          /* front sector: 120 +- 15 degrees */
#define LIDAR_GAP_ANGLES 20          /* an opening the vehicle fits through */

enum lidar_decision { LIDAR_STRAIGHT = 0, LIDAR_LEFT = 1, LIDAR_RIGHT = 2, LIDAR_STOP = 3 };

/* Record of one period in the dump buffer. */
struct lidar_record {
	uint32_t period;
	uint32_t decision;
	uint16_t mm[LIDAR_ANGLES];
};

static inline void lidar_encode(uint8_t out[LIDAR_SCAN_BYTES], const uint16_t mm[LIDAR_ANGLES])
{
	for (int i = 0; i < LIDAR_ANGLES; i++) {
		out[3 * i] = (uint8_t)(0x30 + ((mm[i] >> 12) & 0x3f));
		out[3 * i + 1] = (uint8_t)(0x30 + ((mm[i] >> 6) & 0x3f));
		out[3 * i + 2] = (uint8_t)(0x30 + (mm[i] & 0x3f));
	}
}

static inline void lidar_decode(uint16_t mm[LIDAR_ANGLES], const volatile uint8_t *in)
{
	for (int i = 0; i < LIDAR_ANGLES; i++)
		mm[i] = (uint16_t)(((uint32_t)(in[3 * i] - 0x30) << 12) | ((uint32_t)(in[3 * i + 1] - 0x30) << 6) |
				   (uint32_t)(in[3 * i + 2] - 0x30));
}

static inline int lidar_clear(const uint16_t mm[LIDAR_ANGLES], int from, int step)
{
	int run = 0;
	for (int a = from; a >= 0 && a < LIDAR_ANGLES; a += step) {
		run = mm[a] >= LIDAR_NEAR_MM ? run + 1 : 0;
		if (run == LIDAR_GAP_ANGLES)
			return step > 0 ? a - from - (LIDAR_GAP_ANGLES - 1) : from - a - (LIDAR_GAP_ANGLES - 1);
	}
	return -1;
}

/* Angle 0 is the rightmost, 239 the leftmost, 120 straight ahead. */
static inline enum lidar_decision lidar_decide(const uint16_t mm[LIDAR_ANGLES])
{
	int blocked = 0;
	for (int a = LIDAR_ANGLES / 2 - LIDAR_FRONT_HALF; a <= LIDAR_ANGLES / 2 + LIDAR_FRONT_HALF; a++)
		blocked |= mm[a] < LIDAR_NEAR_MM;
	if (!blocked)
		return LIDAR_STRAIGHT;
	int alpha = lidar_clear(mm, LIDAR_ANGLES / 2, +1);   /* degrees to the left opening */
	int beta = lidar_clear(mm, LIDAR_ANGLES / 2, -1);    /* ... to the right one */
	if (alpha < 0 && beta < 0)
		return LIDAR_STOP;
	if (beta < 0 || (alpha >= 0 && alpha <= beta))
		return LIDAR_LEFT;
	return LIDAR_RIGHT;
}

/* One period: decode, decide, dump at *offset (advanced, wrapping in the 4 MiB buffer). */
static inline enum lidar_decision lidar_period(const volatile uint8_t *scan, volatile uint8_t *dump, uint64_t *offset,
					       uint32_t period)
{
	uint16_t mm[LIDAR_ANGLES];
	lidar_decode(mm, scan);
	enum lidar_decision d = lidar_decide(mm);
	if (*offset + sizeof(struct lidar_record) > LIDAR_DUMP_BYTES)
		*offset = 0;
	volatile struct lidar_record *r = (volatile struct lidar_record *)(dump + *offset);
	r->period = period;
	r->decision = (uint32_t)d;
	for (int i = 0; i < LIDAR_ANGLES; i++)
		r->mm[i] = mm[i];
	*offset += sizeof(struct lidar_record);
	return d;
}

/*
 * The scene of period n (deterministic, outside the timed part): open space
 * with an obstacle that drifts across the field, sometimes straight ahead.
 */
static inline void lidar_scene(uint16_t mm[LIDAR_ANGLES], uint64_t n)
{
	uint64_t x = n * 0x9e3779b97f4a7c15ull + 1;
	int center = (int)(n * 7 % LIDAR_ANGLES), width = 10 + (int)(n % 40);
	for (int a = 0; a < LIDAR_ANGLES; a++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int d = a - center;
		mm[a] = (uint16_t)((d >= -width && d <= width) ? 200 + x % 300 : 1500 + x % 2500);
	}
}
