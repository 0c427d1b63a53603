/* Karma's host-side arithmetic (karma_calc.h). */
#include "karma_calc.h"

enum karma_trigger karma_trigger_decide(uint64_t deadline, uint64_t request_tsc, uint64_t exit_entry_cycles,
					bool soft_enabled)
{
	if (!soft_enabled)
		return KARMA_TRIGGER_HARD;
	int64_t delay = karma_tsc_delta(deadline, request_tsc);
	if (delay < 0 || (uint64_t)delay < exit_entry_cycles)
		return KARMA_TRIGGER_SOFT;
	return KARMA_TRIGGER_HARD;
}

uint64_t karma_cycles_to_ns(uint64_t cycles, uint64_t khz)
{
	if (khz == 0)
		return 0;
	return (uint64_t)((unsigned __int128)cycles * 1000000u / khz);
}

uint64_t karma_ns_to_cycles(uint64_t ns, uint64_t khz)
{
	return (uint64_t)(((unsigned __int128)ns * khz + 999999u) / 1000000u);
}

uint64_t karma_tsc_to_mono_ns(uint64_t tsc, uint64_t anchor_tsc, uint64_t anchor_ns, uint64_t khz)
{
	int64_t d = karma_tsc_delta(tsc, anchor_tsc);
	uint64_t mag = d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d;
	uint64_t ns = khz ? (uint64_t)(((unsigned __int128)mag * 1000000u + (d < 0 ? 0 : khz - 1)) / khz) : 0;
	uint64_t t = d < 0 ? (ns >= anchor_ns ? 0 : anchor_ns - ns) : anchor_ns + ns;
	return t ? t : 1;
}
