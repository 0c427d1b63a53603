/*
 * harness run SUITE --vm [...]: the suite runs inside a Linux guest under
 * qemu. The guest's boot, its image and bringing the results back are
 * vm/run_vm.py's (Python 3, standard library, over the rig vm/gbvm.py); this
 * file only hands it the command line and this harness's own path, by exec,
 * so that whatever kills the harness kills the runner and, through its
 * PDEATHSIG, qemu.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "suite.h"

bool run_wants_vm(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--vm") == 0 || strncmp(argv[i], "--vm-", 5) == 0)
			return true;
	}
	return false;
}

int run_in_vm(int argc, char **argv)
{
	char self[4096], script[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		fprintf(stderr, "harness run --vm: cannot find this harness's path: %s\n", strerror(errno));
		return 2;
	}
	self[n] = '\0';
	snprintf(script, sizeof(script), "%s/vm/run_vm.py", GAPBENCH_SOURCE_ROOT);
	char **args = calloc((size_t)argc + 5, sizeof(*args));
	if (!args) {
		fprintf(stderr, "harness: out of memory\n");
		return 2;
	}
	int k = 0;
	args[k++] = "python3";
	args[k++] = script;
	args[k++] = "--harness";
	args[k++] = self;
	for (int i = 1; i < argc; i++)
		args[k++] = argv[i];
	args[k] = NULL;
	fflush(NULL);
	execvp("python3", args);
	fprintf(stderr, "harness run --vm: cannot run python3 %s: %s\n", script, strerror(errno));
	free(args);
	return 2;
}

int vm_scale_samples(struct suite *suite)
{
	const char *env = getenv("GAPBENCH_VM_SAMPLE_SCALE");
	if (!env || !env[0])
		return 0;
	char *end;
	errno = 0;
	double f = strtod(env, &end);
	if (errno || end == env || *end || !(f > 0.0 && f <= 1.0)) {
		fprintf(stderr, "harness run: GAPBENCH_VM_SAMPLE_SCALE wants a number in (0, 1], got '%s'\n", env);
		return -1;
	}
	for (size_t i = 0; i < suite->n_cases; i++) {
		struct case_settings *set = &suite->cases[i].set;
		int64_t floor_n = set->samples < VM_SCALE_MIN_SAMPLES ? set->samples : VM_SCALE_MIN_SAMPLES;
		int64_t n = (int64_t)((double)set->samples * f);
		set->samples = n > floor_n ? n : floor_n;
		set->warmup = (int64_t)((double)set->warmup * f);
		if (set->duration_s > 0) {   /* whole seconds, at least one */
			int64_t d = (int64_t)((double)set->duration_s * f + 0.5);
			set->duration_s = d > 1 ? d : 1;
		}
	}
	return 0;
}
