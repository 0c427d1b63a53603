/*
 * Unit tests of the generated C project (project.h):
 *  - the same seed gives the same text, another seed another; units differ;
 *  - common.h declares, main.c calls and the Makefile lists every unit;
 *  - units and jobs out of range are named (option validation);
 *  - with gcc and make present: a written project builds with -Wall -Wextra
 *    -Werror (through scratch_spawn, no shell) and its folder is removed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../project.h"
#include "scratch.h"

#include "check.h"

static uint64_t hash(const struct project_text *t)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < t->len; i++)
		h = (h ^ (uint8_t)t->p[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t unit_hash(uint64_t seed, int unit, size_t *len)
{
	struct project_text t = { 0 };
	project_unit(&t, seed, unit);
	CHECK(!t.oom);
	uint64_t h = hash(&t);
	if (len)
		*len = t.len;
	project_text_free(&t);
	return h;
}

static int count(const char *text, const char *needle)
{
	int n = 0;
	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void test_determinism(void)
{
	size_t len = 0;
	CHECK(unit_hash(1, 0, &len) == unit_hash(1, 0, NULL));
	CHECK(unit_hash(1, 0, NULL) != unit_hash(2, 0, NULL));
	CHECK(unit_hash(1, 0, NULL) != unit_hash(1, 1, NULL));
	CHECK_MSG(len > 6000 && len < 40000, "a unit of realistic size: %zu bytes", len);
}

static void test_lists(void)
{
	struct project_text h = { 0 }, m = { 0 }, mk = { 0 };
	project_common_h(&h, 1, 7);
	project_main_c(&m, 7);
	project_makefile(&mk, 7);
	CHECK(!h.oom && !m.oom && !mk.oom);
	CHECK_MSG(count(h.p, "uint32_t unit_") == 7, "common.h declares 7 entries");
	CHECK_MSG(count(m.p, "acc ^= unit_") == 7, "main.c calls 7 entries");
	CHECK_MSG(count(mk.p, "obj/u0") == 7, "the Makefile lists 7 units");
	CHECK(strstr(mk.p, "obj/u006.o") && !strstr(mk.p, "obj/u007.o"));
	CHECK(strstr(mk.p, "\n\t$(CC) $(CFLAGS) -c -o $@ $<\n") != NULL);   /* recipes start with a tab */
	project_text_free(&h);
	project_text_free(&m);
	project_text_free(&mk);
}

static void test_check(void)
{
	CHECK(project_check(24, 1) == NULL);
	CHECK(project_check(PROJECT_UNITS_MAX, PROJECT_JOBS_MAX) == NULL);
	CHECK(project_check(0, 1) != NULL);
	CHECK(project_check(PROJECT_UNITS_MAX + 1, 1) != NULL);
	CHECK(project_check(1, 0) != NULL);
	CHECK(project_check(1, PROJECT_JOBS_MAX + 1) != NULL);
}

static void test_builds(void)
{
	char path[512];
	if (!scratch_find_program("gcc", path, sizeof(path)) || !scratch_find_program("make", path, sizeof(path))) {
		printf("gcc or make missing: the build check is left out\n");
		return;
	}
	struct scratch sc;
	char why[256], proj[SCRATCH_PATH_MAX], log[SCRATCH_PATH_MAX], prog[SCRATCH_PATH_MAX];
	if (scratch_create(&sc, "test-project", why, sizeof(why)) != 0) {
		CHECK_MSG(0, "%s", why);
		return;
	}
	CHECK(scratch_join(proj, sizeof(proj), sc.path, "p") == 0 && mkdir(proj, 0755) == 0);
	CHECK(scratch_join(log, sizeof(log), sc.path, "make.log") == 0);
	CHECK(scratch_join(prog, sizeof(prog), proj, "obj/prog") == 0);
	uint64_t bytes = 0;
	CHECK_MSG(project_write(proj, 3, 3, &bytes, why, sizeof(why)) == 0, "%s", why);
	CHECK(bytes > 3 * 6000);
	char *argv[] = { "make", "-s", "-j", "2", "CC=gcc", "CFLAGS=-O1 -Wall -Wextra -Werror", NULL };
	struct spawn_opts o = { .cwd = proj, .cpu = -1, .log_path = log, .keep_fd = sc.keep_fd };
	pid_t pid = scratch_spawn(argv, &o, why, sizeof(why));
	CHECK_MSG(pid > 0, "%s", why);
	int status = 0;
	if (pid > 0 && scratch_wait(pid, NULL, &status) == 0) {
		scratch_describe_exit(status, log, why, sizeof(why));
		CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "make: %s", why);
		CHECK(access(prog, X_OK) == 0);
	}
	char *bad[] = { "gapbench-no-such-program", NULL };
	CHECK(scratch_spawn(bad, &o, why, sizeof(why)) == -1 && strstr(why, "cannot run"));
	char dir[SCRATCH_PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", sc.path);
	scratch_remove(&sc);
	CHECK_MSG(access(dir, F_OK) != 0, "%s removed", dir);
}

int main(void)
{
	test_determinism();
	test_lists();
	test_check();
	test_builds();
	if (check_failures)
		fprintf(stderr, "%d failure(s)\n", check_failures);
	return check_failures ? 1 : 0;
}
