/*
 * The folders a build of the generated project uses, in a scratch folder of
 * its own: proj/ (the sources and Makefile), proj/obj/ (emptied before each
 * clean build), make.log, and make's -j argument. Shared by the `compile`
 * load, mechanism `workload` and hijackcos's compile experiments.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "scratch.h"

struct project_dirs {
	struct scratch sc;
	char proj[SCRATCH_PATH_MAX], obj[SCRATCH_PATH_MAX], log[SCRATCH_PATH_MAX];
	char jobs_arg[16];
};

/* Creates the scratch folder ($TMPDIR/gapbench-TAG-XXXXXX) and the paths; -1 with why. */
int project_dirs_init(struct project_dirs *d, const char *tag, int64_t jobs, char *why, size_t why_len);
/* mkdir proj/ and writes the project there (project_write); bytes may be NULL. -1 with why. */
int project_dirs_write(const struct project_dirs *d, uint64_t seed, int units, uint64_t *bytes, char *why,
		       size_t why_len);
