/*
 * The I/O response experiments' packet: a 16-byte UDP payload (the paper's
 * size) and, for the TUN path, the in-place turn of a received IPv4/UDP
 * datagram into its reply. Pure functions: unit-tested in tests/test_packet.c.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define HJC_MAGIC 0x48434f53u   /* "HCOS" */

struct hjc_msg {   /* the whole payload: 16 bytes */
	uint32_t magic;
	uint32_t seq;
	uint64_t send_tsc;   /* the sender's, for the record; nothing is computed across CPUs */
};
_Static_assert(sizeof(struct hjc_msg) == 16, "the paper's packets carry 16 bytes");

/*
 * pkt holds len bytes as read from an IFF_TUN | IFF_NO_PI device. When it
 * is an IPv4 UDP datagram to dst_port carrying a struct hjc_msg, swap its
 * addresses and ports so that it is the reply (both checksums stay valid:
 * a swap does not change a ones'-complement sum), store the message's seq
 * in *seq and return 0; otherwise (another protocol, port, a short or
 * malformed packet) return -1 and leave it as it was.
 */
int hjc_udp_reflect(uint8_t *pkt, size_t len, uint16_t dst_port, uint32_t *seq);
