/* The folders of a build of the generated project (project_dirs.h). */
#include "project_dirs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "project.h"

int project_dirs_init(struct project_dirs *d, const char *tag, int64_t jobs, char *why, size_t why_len)
{
	if (scratch_create(&d->sc, tag, why, why_len) != 0)
		return -1;
	if (scratch_join(d->proj, sizeof(d->proj), d->sc.path, "proj") ||
	    scratch_join(d->obj, sizeof(d->obj), d->proj, "obj") ||
	    scratch_join(d->log, sizeof(d->log), d->sc.path, "make.log")) {
		snprintf(why, why_len, "scratch paths too long");
		return -1;
	}
	snprintf(d->jobs_arg, sizeof(d->jobs_arg), "%lld", (long long)jobs);
	return 0;
}

int project_dirs_write(const struct project_dirs *d, uint64_t seed, int units, uint64_t *bytes, char *why,
		       size_t why_len)
{
	if (mkdir(d->proj, 0755) != 0) {
		snprintf(why, why_len, "mkdir %s: %s", d->proj, strerror(errno));
		return -1;
	}
	return project_write(d->proj, seed, units, bytes, why, why_len);
}
