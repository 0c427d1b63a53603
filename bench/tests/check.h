/*
 * The test checks of every C test in gapbench: report file:line and keep
 * going; main ends with CHECK_DONE() (or returns check_failures != 0).
 */
#pragma once
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static int check_failures;

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		check_failures++; \
	} \
} while (0)

/* CHECK with a printf-style explanation of what was expected. */
#define CHECK_MSG(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
		check_failures++; \
	} \
} while (0)

#define CHECK_EQ_U64(a, b) do { \
	uint64_t a_ = (a), b_ = (b); \
	if (a_ != b_) { \
		fprintf(stderr, "%s:%d: %s == %s failed: %" PRIu64 " != %" PRIu64 "\n", \
			__FILE__, __LINE__, #a, #b, a_, b_); \
		check_failures++; \
	} \
} while (0)

#define CHECK_NEAR(a, b, tol) do { \
	double a_ = (a), b_ = (b); \
	if (!(a_ - b_ <= (tol) && b_ - a_ <= (tol))) { \
		fprintf(stderr, "%s:%d: |%s - %s| <= %g failed: %.9g vs %.9g\n", \
			__FILE__, __LINE__, #a, #b, (double)(tol), a_, b_); \
		check_failures++; \
	} \
} while (0)

/* Write text to dir/name for a test (a suite, a CSV); exits on failure. Returns the path. */
static inline const char *check_write_file(const char *dir, const char *name, const char *text)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
	return path;
}

#define CHECK_DONE() do { \
	if (check_failures) \
		fprintf(stderr, "%d check(s) failed\n", check_failures); \
	return check_failures ? 1 : 0; \
} while (0)
