/*
 * A generated C project to build, deterministic from a seed: `units`
 * translation units uNNN.c of realistic size (16 functions, ~9 KiB each:
 * loops, switches, string and sort calls, standard headers included), a
 * shared common.h that declares every unit's entry, main.c and a Makefile
 * that builds obj/prog from obj/ *.o. Used by the `compile` load and by
 * mechanism `workload` (Karma's Figure 2, natively). Plain C: the text
 * generator has no file system part, project_write() does.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

#define PROJECT_UNITS_MAX 1000
#define PROJECT_JOBS_MAX 64

/* A growing text buffer; oom is set (and the text left short) when memory ran out. */
struct project_text {
	char *p;
	size_t len, cap;
	bool oom;
};

void project_text_printf(struct project_text *t, const char *fmt, ...) BENCH_PRINTF(2, 3);
void project_text_free(struct project_text *t);

/* NULL when units and jobs make a project to build, else why not. */
const char *project_check(int64_t units, int64_t jobs);
/* The text of unit `unit` (0-based), of common.h, of main.c and of the Makefile. */
void project_unit(struct project_text *t, uint64_t seed, int unit);
void project_common_h(struct project_text *t, uint64_t seed, int units);
void project_main_c(struct project_text *t, int units);
void project_makefile(struct project_text *t, int units);
/*
 * Write every file into dir (an existing folder) and make dir/obj. 0, or -1
 * with why; *bytes (when not NULL): the sources' size.
 */
int project_write(const char *dir, uint64_t seed, int units, uint64_t *bytes, char *why, size_t why_len);
