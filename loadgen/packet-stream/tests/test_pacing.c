/* Unit test of the packet-stream pacing maths. */
#include <stdio.h>

#include "../pacing.h"

#include "check.h"

int main(void)
{
	/* 4 streams of 42,000 packets/s: 168,000 packets/s, one every 5952.38 ns */
	const unsigned long long rate = 168000;
	CHECK_EQ_U64(ps_send_offset_ns(0, rate), 0);
	CHECK_EQ_U64(ps_send_offset_ns(1, rate), 5952);
	CHECK_EQ_U64(ps_send_offset_ns(168000, rate), 1000000000ull);
	CHECK_EQ_U64(ps_due(0, rate), 1);              /* packet 0 is due at once */
	CHECK_EQ_U64(ps_due(5951, rate), 1);
	CHECK_EQ_U64(ps_due(5953, rate), 2);
	CHECK_EQ_U64(ps_due(1000000000ull, rate), 168001);
	/* nothing late yet: keep the next packet */
	CHECK_EQ_U64(ps_first_on_time(10, 100000, 1000000, rate), 10);
	/* 2 ms in with 1 ms allowed lateness: everything due before 1 ms is skipped */
	CHECK_EQ_U64(ps_first_on_time(0, 2000000, 1000000, rate), ps_due(1000000, rate));
	CHECK_EQ_U64(ps_first_on_time(500, 2000000, 1000000, rate), 500);
	CHECK_EQ_U64(ps_stream_of(5, 4), 1);
	/* a huge k does not overflow */
	CHECK_EQ_U64(ps_send_offset_ns(1ull << 40, 1ull << 20), (1ull << 20) * 1000000000ull);
	if (check_failures)
		fprintf(stderr, "%d check_failures\n", check_failures);
	else
		printf("pacing: ok\n");
	return check_failures ? 1 : 0;
}
