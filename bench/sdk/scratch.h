/*
 * Scratch folders and programs run without a shell, for loads and
 * mechanisms that run real programs on real files (tar, make).
 *
 * A scratch folder is $TMPDIR/gapbench-TAG-XXXXXX (/tmp without TMPDIR). It
 * is removed on every exit path:
 *   - scratch_remove() removes it (the normal path);
 *   - a janitor process, forked by scratch_create() into a process group of
 *     its own (so the harness's kill of the case's group spares it), sleeps
 *     on a pipe whose write end the case and everything it starts for the
 *     folder hold (scratch_spawn() passes it on through exec). When the last
 *     of them is gone (SIGKILL, a timeout, the harness killed) the janitor
 *     reads end of file, removes the folder and exits. It holds no other fd;
 *   - folders gapbench-TAG-* older than SCRATCH_STALE_S (a janitor that was
 *     itself killed) are removed by the next scratch_create() of that tag.
 */
#pragma once
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "compiler.h"

#define SCRATCH_STALE_S 86400   /* a day */
#define SCRATCH_PATH_MAX 512

struct scratch {
	char path[SCRATCH_PATH_MAX];
	int keep_fd;        /* write end of the janitor's pipe (close-on-exec here) */
	pid_t janitor;
	bool made;
};

/* The folder scratch folders go in: $TMPDIR, or /tmp. */
const char *scratch_tmpdir(void);
/*
 * Make a scratch folder for tag (letters, digits and '-') and its janitor;
 * first removes stale gapbench-TAG-* folders. 0, or -1 with why.
 */
int scratch_create(struct scratch *sc, const char *tag, char *why, size_t why_len);
/* Remove the folder, let the janitor go and reap it. Safe twice, and on a zeroed struct. */
void scratch_remove(struct scratch *sc);
/* rm -rf path without following links or crossing mounts. 0, or -1 (errno). ENOENT is 0. */
int scratch_rm_tree(const char *path);
/* Remove gapbench-TAG-* folders in dir last changed more than max_age_s ago; returns how many. */
int scratch_remove_stale(const char *dir, const char *tag, time_t max_age_s);
/* Count regular files and their bytes under path (ending in suffix, when not NULL). */
void scratch_count_files(const char *path, const char *suffix, uint64_t *files, uint64_t *bytes);
/* Join a + "/" + b into buf; -1 when it does not fit. */
int scratch_join(char *buf, size_t len, const char *a, const char *b);

/* A program found in $PATH (an executable regular file): its full path in buf. */
bool scratch_find_program(const char *name, char *buf, size_t len);

struct spawn_opts {
	const char *cwd;          /* NULL: the caller's */
	int cpu;                  /* pin to this CPU; -1: keep the caller's affinity */
	const char *log_path;     /* stdout and stderr go here (truncated); NULL: /dev/null */
	int keep_fd;              /* passed on through exec (a scratch's keep_fd); -1: none */
};

/*
 * Fork and exec argv (execvp, no shell) as an ordinary SCHED_OTHER process
 * (never the caller's real-time policy) that dies with its parent. The pid,
 * or -1 with why.
 */
pid_t scratch_spawn(char *const argv[], const struct spawn_opts *o, char *why, size_t why_len);
/*
 * Wait for pid; *stop (when not NULL) set by a signal handler ends the wait
 * early: returns 1 then (pid still running), 0 with its wait status, -1.
 */
int scratch_wait(pid_t pid, volatile sig_atomic_t *stop, int *status);
/*
 * For a child subreaper (PR_SET_CHILD_SUBREAPER): SIGKILL every child,
 * reap it, and the same for its orphans re-parented to us, until none is
 * left (bounded by timeout_ms). Returns how many were reaped.
 */
int scratch_kill_children(unsigned timeout_ms);
/* "exit 2" / "signal 9" and the last line of the log at path, for why. */
void scratch_describe_exit(int status, const char *log_path, char *buf, size_t len);
