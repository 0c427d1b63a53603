/* The response experiments' packet (see packet.h). */
#include "packet.h"

#include <string.h>

#define IP_MIN_HDR 20
#define UDP_HDR 8
#define PROTO_UDP 17

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void swap_bytes(uint8_t *a, uint8_t *b, size_t n)
{
	uint8_t t[4];
	memcpy(t, a, n);
	memcpy(a, b, n);
	memcpy(b, t, n);
}

int hjc_udp_reflect(uint8_t *pkt, size_t len, uint16_t dst_port, uint32_t *seq)
{
	if (len < IP_MIN_HDR || pkt[0] >> 4 != 4)
		return -1;
	size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
	if (ihl < IP_MIN_HDR || len < ihl + UDP_HDR + sizeof(struct hjc_msg) || pkt[9] != PROTO_UDP)
		return -1;
	if (be16(pkt + 2) != len || (be16(pkt + 6) & 0x3fff) != 0)   /* truncated, or a fragment */
		return -1;
	uint8_t *udp = pkt + ihl;
	if (be16(udp + 2) != dst_port || be16(udp + 4) != len - ihl)
		return -1;
	struct hjc_msg m;
	memcpy(&m, udp + UDP_HDR, sizeof(m));
	if (m.magic != HJC_MAGIC)
		return -1;
	swap_bytes(pkt + 12, pkt + 16, 4);   /* source and destination address */
	swap_bytes(udp, udp + 2, 2);          /* source and destination port */
	*seq = m.seq;
	return 0;
}
