/*
 * PMU counters: event names as users write them (INSTRUCTIONS_RETIRED,
 * DTLB_LOAD_MISSES, ...) are encoded by libpfm4 and opened with
 * perf_event_open on the calling thread. Where the machine has no PMU, or
 * gapbench was built without libpfm4, every counter is "unavailable" with the
 * reason, never 0.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PMU_MAX_EVENTS 8
#define PMU_NAME_MAX 64

struct pmu_counter {
	char name[PMU_NAME_MAX];
	bool available;
	char why[256];          /* reason when unavailable */
	int fd;
	uint64_t value;         /* scaled for multiplexing */
	uint64_t enabled_ns, running_ns;
};

struct pmu_set {
	unsigned count;
	struct pmu_counter c[PMU_MAX_EVENTS];
};

/* Whether the library was built in; with why when not. */
bool pmu_supported(char *why, size_t len);
/*
 * Encode `name` into perf_event_attr fields: returns 0 and fills type/config,
 * or -1 with the library's reason. Pure: opens nothing (unit-tested).
 */
int pmu_encode(const char *name, uint32_t *type, uint64_t *config, char *why, size_t len);
/* Open every event on the calling thread, disabled. Never fails as a whole. */
void pmu_open(struct pmu_set *set, const char *const *names, unsigned n);
void pmu_start(struct pmu_set *set);
void pmu_stop(struct pmu_set *set);
void pmu_close(struct pmu_set *set);
