/*
 * Checks for the in-guest module tests: each prints what it checked, and the
 * first failed check ends the program with status 1.
 */
#pragma once
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KCHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: check failed: %s (errno %d %s)\n", __FILE__, __LINE__, #cond, \
			errno, strerror(errno)); \
		exit(1); \
	} \
} while (0)

/* rc must be -1 with errno want; one line per row of a bad-call table. */
static inline void kexpect_errno(const char *what, long rc, int want)
{
	int got = errno;

	if (rc != -1 || got != want) {
		fprintf(stderr, "FAIL %-44s rc %ld errno %d (%s), want -1 errno %d (%s)\n", what, rc,
			rc == -1 ? got : 0, rc == -1 ? strerror(got) : "-", want, strerror(want));
		exit(1);
	}
	printf("ok   %-44s %s\n", what, strerrorname_np(want));
}

/* /sys/module/MOD/parameters/registrations, or -1. */
static inline long kregistrations(const char *mod)
{
	char path[160];
	long n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/registrations", mod);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &n) != 1)
		n = -1;
	fclose(f);
	return n;
}

/* An address the kernel must refuse (EFAULT), hidden from the compiler's bounds checks. */
static inline void *kbad_ptr(unsigned long addr)
{
	void *volatile p = (void *)addr;

	return p;
}
