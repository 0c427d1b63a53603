/*
 * Commands served by the Python tools in plots/ (reports are Python 3,
 * standard library only): harness plot, harness history, harness ab.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"

#define TOOL_MAX_ARGS 32

static int exec_tool(const char *script, int argc, char **argv)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/plots/%s", GAPBENCH_SOURCE_ROOT, script);
	if (argc > TOOL_MAX_ARGS - 3) {
		fprintf(stderr, "harness: too many arguments\n");
		return 2;
	}
	char *args[TOOL_MAX_ARGS];
	int n = 0;
	args[n++] = "python3";
	args[n++] = path;
	for (int i = 1; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	fflush(NULL);
	execvp("python3", args);
	fprintf(stderr, "harness: cannot run python3 %s: %s\n", path, strerror(errno));
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
