/* Pacing maths of the packet-stream sender (see pacing.h). */
#include "pacing.h"

#define NS_PER_S 1000000000ull

uint64_t ps_send_offset_ns(uint64_t k, uint64_t total_rate_per_s)
{
	/* k * 1e9 / rate without overflow for any k below 2^64 / 1e9 (~584 years at 1 pkt/s) */
	return (uint64_t)((unsigned __int128)k * NS_PER_S / total_rate_per_s);
}

uint64_t ps_due(uint64_t elapsed_ns, uint64_t total_rate_per_s)
{
	/* packet k is due when k * 1e9 / rate <= elapsed, i.e. k <= elapsed * rate / 1e9 */
	return (uint64_t)((unsigned __int128)elapsed_ns * total_rate_per_s / NS_PER_S) + 1;
}

uint64_t ps_first_on_time(uint64_t next, uint64_t elapsed_ns, uint64_t late_ns, uint64_t total_rate_per_s)
{
	if (elapsed_ns <= late_ns)
		return next;
	uint64_t first = ps_due(elapsed_ns - late_ns, total_rate_per_s);   /* due before the late horizon */
	return first > next ? first : next;
}
