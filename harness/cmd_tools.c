/*
 * Commands served by the Python tools in plots/ (reports are Python 3,
 * standard library only): harness plot, harness history, harness ab.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"

/* Every argument goes through: `harness history record` takes as many results folders as given. */
static int exec_tool(const char *script, int argc, char **argv)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/plots/%s", GAPBENCH_SOURCE_ROOT, script);
	char **args = calloc((size_t)argc + 3, sizeof(*args));
	if (!args) {
		fprintf(stderr, "harness: out of memory\n");
		return 2;
	}
	int n = 0;
	args[n++] = "python3";
	args[n++] = path;
	for (int i = 1; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	fflush(NULL);
	execvp("python3", args);
	fprintf(stderr, "harness: cannot run python3 %s: %s\n", path, strerror(errno));
	free(args);
	return 2;
}

int cmd_plot(int argc, char **argv)
{
	return exec_tool("plot.py", argc, argv);
}

int cmd_history(int argc, char **argv)
{
	return exec_tool("history.py", argc, argv);
}

int cmd_ab(int argc, char **argv)
{
	return exec_tool("ab.py", argc, argv);
}
