/*
 * PMU: event encoding through libpfm4 with a forced PMU model (so the answer
 * is known on any machine), and honest "unavailable" where counters cannot run.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "pmu.h"

int main(void)
{
	char why[256] = "";
#if HAVE_LIBPFM
	/* Skylake's event tables: fixed, documented encodings */
	setenv("LIBPFM_FORCE_PMU", "skl", 1);
	uint32_t type = 0;
	uint64_t config = 0;
	CHECK(pmu_encode("INSTRUCTIONS_RETIRED", &type, &config, why, sizeof(why)) == 0);
	CHECK(type == 4 /* PERF_TYPE_RAW */ && config == 0xc0);
	CHECK(pmu_encode("DTLB_LOAD_MISSES:MISS_CAUSES_A_WALK", &type, &config, why, sizeof(why)) == 0);
	CHECK(type == 4 && config == 0x108);
	CHECK(pmu_encode("NO_SUCH_EVENT_ANYWHERE", &type, &config, why, sizeof(why)) != 0);
	CHECK(strstr(why, "NO_SUCH_EVENT_ANYWHERE") != NULL);
	/* a unit mask is required here: the error says which ones exist */
	CHECK(pmu_encode("DTLB_LOAD_MISSES", &type, &config, why, sizeof(why)) != 0);
	CHECK(strstr(why, "MISS_CAUSES_A_WALK") != NULL);
#else
	CHECK(!pmu_supported(why, sizeof(why)));
	CHECK(strstr(why, "libpfm4") != NULL);
#endif
	/* Live: either the counter counts something, or it says why it cannot. Never a silent 0. */
	const char *names[] = { "INSTRUCTIONS_RETIRED", "NO_SUCH_EVENT_ANYWHERE" };
	struct pmu_set set;
	pmu_open(&set, names, 2);
	CHECK(set.count == 2);
	pmu_start(&set);
	volatile uint64_t x = 0;
	for (int i = 0; i < 100000; i++)
		x += (uint64_t)i;
	pmu_stop(&set);
	for (unsigned i = 0; i < set.count; i++) {
		if (set.c[i].available)
			CHECK(set.c[i].value > 0);
		else
			CHECK(set.c[i].why[0] != '\0');
		printf("%s: %s%s\n", set.c[i].name, set.c[i].available ? "available" : "unavailable: ",
		       set.c[i].available ? "" : set.c[i].why);
	}
	CHECK(!set.c[1].available);
	pmu_close(&set);
	CHECK_DONE();
}
