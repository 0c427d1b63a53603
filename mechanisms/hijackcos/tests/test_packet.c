/* Unit test of the TUN path's reply: a reflected datagram keeps valid checksums. */
#include <stdio.h>
#include <string.h>

#include "../packet.h"

#include "check.h"

#define PORT 47100

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t acc)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	return acc;
}

static uint16_t fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The UDP checksum over the pseudo header: 0 when the datagram is intact. */
static uint16_t udp_check(const uint8_t *pkt, size_t len)
{
	uint8_t pseudo[12];
	memcpy(pseudo, pkt + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = 17;
	put16(pseudo + 10, (uint16_t)(len - 20));
	return fold(sum16(pkt + 20, len - 20, sum16(pseudo, sizeof(pseudo), 0)));
}

/* 10.213.0.1:40000 -> 10.214.0.2:port, one struct hjc_msg, both checksums set. */
static size_t build(uint8_t *pkt, uint16_t port, uint32_t seq)
{
	const size_t len = 20 + 8 + sizeof(struct hjc_msg);
	memset(pkt, 0, len);
	pkt[0] = 0x45;
	put16(pkt + 2, (uint16_t)len);
	pkt[8] = 63;
	pkt[9] = 17;
	const uint8_t src[4] = { 10, 213, 0, 1 }, dst[4] = { 10, 214, 0, 2 };
	memcpy(pkt + 12, src, 4);
	memcpy(pkt + 16, dst, 4);
	put16(pkt + 10, fold(sum16(pkt, 20, 0)));
	put16(pkt + 20, 40000);
	put16(pkt + 22, port);
	put16(pkt + 24, (uint16_t)(len - 20));
	struct hjc_msg m = { .magic = HJC_MAGIC, .seq = seq, .send_tsc = 123456789 };
	memcpy(pkt + 28, &m, sizeof(m));
	put16(pkt + 26, udp_check(pkt, len));
	return len;
}

int main(void)
{
	uint8_t pkt[128], orig[128];
	uint32_t seq = 0;
	size_t len = build(pkt, PORT, 77);
	CHECK(fold(sum16(pkt, 20, 0)) == 0);
	CHECK(udp_check(pkt, len) == 0);
	memcpy(orig, pkt, len);

	CHECK(hjc_udp_reflect(pkt, len, PORT, &seq) == 0);
	CHECK_EQ_U64(seq, 77);
	CHECK(memcmp(pkt + 12, orig + 16, 4) == 0 && memcmp(pkt + 16, orig + 12, 4) == 0);   /* addresses swapped */
	CHECK(memcmp(pkt + 20, orig + 22, 2) == 0 && memcmp(pkt + 22, orig + 20, 2) == 0);   /* ports swapped */
	CHECK(fold(sum16(pkt, 20, 0)) == 0);     /* the IP header checksum still holds */
	CHECK(udp_check(pkt, len) == 0);         /* and the UDP one */
	CHECK(memcmp(pkt + 28, orig + 28, sizeof(struct hjc_msg)) == 0);

	/* what is not ours is left alone */
	len = build(pkt, PORT + 1, 1);
	memcpy(orig, pkt, len);
	CHECK(hjc_udp_reflect(pkt, len, PORT, &seq) == -1);           /* another port */
	CHECK(memcmp(pkt, orig, len) == 0);
	len = build(pkt, PORT, 1);
	CHECK(hjc_udp_reflect(pkt, len - 1, PORT, &seq) == -1);       /* shorter than its IP length */
	CHECK(hjc_udp_reflect(pkt, 20, PORT, &seq) == -1);            /* no UDP header */
	pkt[9] = 6;
	CHECK(hjc_udp_reflect(pkt, len, PORT, &seq) == -1);           /* TCP */
	len = build(pkt, PORT, 1);
	pkt[0] = 0x60;
	CHECK(hjc_udp_reflect(pkt, len, PORT, &seq) == -1);           /* IPv6 */
	len = build(pkt, PORT, 1);
	pkt[6] = 0x20;
	CHECK(hjc_udp_reflect(pkt, len, PORT, &seq) == -1);           /* a first fragment */
	len = build(pkt, PORT, 1);
	pkt[28] ^= 1;
	CHECK(hjc_udp_reflect(pkt, len, PORT, &seq) == -1);           /* not our message */

	CHECK_DONE();
}
