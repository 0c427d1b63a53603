/* Platform metadata: what a reader needs to judge any number in a run. */
#pragma once
#include <jansson.h>
#include "tsc.h"

/* A new JSON object describing this machine (CPU, kernel, clocks, KVM...). */
json_t *platform_describe(const struct tsc_info *tsc, const struct tsc_overhead *ovh);
/* True when CPUID says we run under a hypervisor; vendor string into buf. */
bool platform_hypervisor(char *vendor, size_t len);
