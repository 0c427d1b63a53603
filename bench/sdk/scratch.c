/* Scratch folders with a janitor, and programs run without a shell (scratch.h). */
#include "scratch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "peer.h"

#define SCRATCH_RM_DEPTH_MAX 64

const char *scratch_tmpdir(void)
{
	const char *t = getenv("TMPDIR");
	return t && t[0] == '/' ? t : "/tmp";
}

int scratch_join(char *buf, size_t len, const char *a, const char *b)
{
	int n = snprintf(buf, len, "%s/%s", a, b);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Remove name under at_fd, a folder with everything in it. */
static int rm_at(int at_fd, const char *name, int depth)
{
	if (unlinkat(at_fd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -1;
	if (depth > SCRATCH_RM_DEPTH_MAX) {
		errno = ELOOP;
		return -1;
	}
	/* O_NOFOLLOW: a link is unlinked above, never followed */
	int fd = openat(at_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	int rc = 0, saved = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (rm_at(dirfd(d), e->d_name, depth + 1) != 0) {
			rc = -1;
			saved = errno;
		}
	}
	closedir(d);
	if (unlinkat(at_fd, name, AT_REMOVEDIR) != 0 && errno != ENOENT) {
		rc = -1;
		saved = errno;
	}
	errno = saved;
	return rc;
}

int scratch_rm_tree(const char *path)
{
	return rm_at(AT_FDCWD, path, 0);
}

static void count_at(int at_fd, const char *suffix, uint64_t *files, uint64_t *bytes, int depth)
{
	if (depth > SCRATCH_RM_DEPTH_MAX)
		return;
	int fd = dup(at_fd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	size_t slen = suffix ? strlen(suffix) : 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(at_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(at_fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0) {
				count_at(sub, suffix, files, bytes, depth + 1);
				close(sub);
			}
			continue;
		}
		size_t nlen = strlen(e->d_name);
		if (!S_ISREG(st.st_mode) || (suffix && (nlen < slen || strcmp(e->d_name + nlen - slen, suffix))))
			continue;
		(*files)++;
		*bytes += (uint64_t)st.st_size;
	}
	closedir(d);
}

void scratch_count_files(const char *path, const char *suffix, uint64_t *files, uint64_t *bytes)
{
	*files = *bytes = 0;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	count_at(fd, suffix, files, bytes, 0);
	close(fd);
}

/* Is the folder held by a live janitor (its flock)? */
static bool scratch_in_use(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool busy = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	close(fd);   /* drops our lock, if we got it */
	return busy;
}

int scratch_remove_stale(const char *dir, const char *tag, time_t max_age_s)
{
	char prefix[80];
	snprintf(prefix, sizeof(prefix), "gapbench-%s-", tag);
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int removed = 0;
	time_t now = time(NULL);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
			continue;
		char path[SCRATCH_PATH_MAX];
		struct stat st;
		if (scratch_join(path, sizeof(path), dir, e->d_name) || lstat(path, &st) != 0)
			continue;
		/* only our own folders, only old ones, never one a janitor still holds */
		if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || now - st.st_mtime <= max_age_s ||
		    scratch_in_use(path))
			continue;
		if (scratch_rm_tree(path) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}

static bool tag_ok(const char *tag)
{
	if (!tag[0] || strlen(tag) > 32)
		return false;
	for (const char *p = tag; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
	return true;
}

/* The janitor (a child of scratch_create): never returns. fd 3 = pipe, fd 4 = the folder (flocked). */
static void janitor_main(const char *path)
{
	struct sched_param sp = { .sched_priority = 0 };
	sched_setscheduler(0, SCHED_OTHER, &sp);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);   /* a group kill cannot reach us anyway; nothing else should */
	if (close_range(5, ~0U, 0) != 0)
		for (int fd = 5; fd < 1024; fd++)
			close(fd);
	int null_fd = open("/dev/null", O_RDWR);
	for (int fd = 0; fd < 3 && null_fd >= 0; fd++)
		dup2(null_fd, fd);
	if (null_fd > 4)
		close(null_fd);
	char c;
	for (;;) {
		ssize_t n = read(3, &c, 1);
		if (n == 0 || (n < 0 && errno != EINTR))
			break;
	}
	for (int tries = 0; tries < 20 && scratch_rm_tree(path) != 0; tries++)
		usleep(100000);
	_exit(0);
}

int scratch_create(struct scratch *sc, const char *tag, char *why, size_t why_len)
{
	memset(sc, 0, sizeof(*sc));
	sc->keep_fd = -1;
	if (!tag_ok(tag)) {
		snprintf(why, why_len, "scratch tag '%s': letters, digits and '-' only", tag);
		return -1;
	}
	const char *dir = scratch_tmpdir();
	scratch_remove_stale(dir, tag, SCRATCH_STALE_S);
	int n = snprintf(sc->path, sizeof(sc->path), "%s/gapbench-%s-XXXXXX", dir, tag);
	if (n < 0 || (size_t)n >= sizeof(sc->path)) {
		snprintf(why, why_len, "temporary folder name too long under %s", dir);
		return -1;
	}
	if (!mkdtemp(sc->path)) {
		snprintf(why, why_len, "cannot make a folder in %s: %s", dir, strerror(errno));
		return -1;
	}
	int fds[2] = { -1, -1 };
	int lock_fd = open(sc->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lock_fd < 0 || flock(lock_fd, LOCK_EX) != 0 || pipe2(fds, O_CLOEXEC) != 0) {
		snprintf(why, why_len, "cannot set up the janitor of %s: %s", sc->path, strerror(errno));
		goto fail;
	}
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(why, why_len, "cannot fork the janitor of %s: %s", sc->path, strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		setpgid(0, 0);   /* out of the case's group: a kill of the group leaves us to clean */
		close(fds[1]);
		/* fd 3 = pipe, fd 4 = folder lock; dup2 onto a number first moves away what is there */
		int r = fcntl(fds[0], F_DUPFD_CLOEXEC, 10), l = fcntl(lock_fd, F_DUPFD_CLOEXEC, 10);
		if (r < 0 || l < 0 || dup2(r, 3) != 3 || dup2(l, 4) != 4)
			_exit(1);
		janitor_main(sc->path);
	}
	close(fds[0]);
	close(lock_fd);   /* the janitor's copy keeps the lock */
	sc->keep_fd = fds[1];
	sc->janitor = pid;
	sc->made = true;
	return 0;
fail:
	if (lock_fd >= 0)
		close(lock_fd);
	if (fds[0] >= 0) {
		close(fds[0]);
		close(fds[1]);
	}
	scratch_rm_tree(sc->path);
	return -1;
}

void scratch_remove(struct scratch *sc)
{
	if (!sc->made)
		return;
	scratch_rm_tree(sc->path);
	if (sc->keep_fd >= 0)
		close(sc->keep_fd);
	sc->keep_fd = -1;
	/* it exits once nobody holds the pipe; killed after the reap timeout otherwise */
	if (sc->janitor > 0)
		peer_process_reap(sc->janitor, PEER_REAP_TIMEOUT_MS);
	sc->janitor = 0;
	sc->made = false;
}

bool scratch_find_program(const char *name, char *buf, size_t len)
{
	struct stat st;
	if (strchr(name, '/')) {
		snprintf(buf, len, "%s", name);
		return stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0;
	}
	const char *path = getenv("PATH");
	if (!path || !path[0])
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t dlen = strcspn(path, ":");
		int n = snprintf(buf, len, "%.*s/%s", (int)dlen, path, name);
		if (dlen > 0 && n > 0 && (size_t)n < len && stat(buf, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(buf, X_OK) == 0)
			return true;
		path += dlen + (path[dlen] == ':');
	}
	return false;
}

/* The child side of scratch_spawn: never returns. */
static void spawn_child(char *const argv[], const struct spawn_opts *o, pid_t parent, int null_fd, int out_fd,
			int err_pipe)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	int err = 0;
	if (getppid() != parent)
		_exit(127);
	struct sched_param sp = { .sched_priority = 0 };
	if (sched_setscheduler(0, SCHED_OTHER, &sp) != 0)
		err = errno;
	if (!err && o->cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(o->cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) != 0)
			err = errno;
	}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	if (!err && (dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0))
		err = errno;
	if (!err && o->keep_fd >= 0 && fcntl(o->keep_fd, F_SETFD, 0) != 0)
		err = errno;
	if (!err && o->cwd && chdir(o->cwd) != 0)
		err = errno;
	if (!err) {
		execvp(argv[0], argv);
		err = errno;
	}
	ssize_t w = write(err_pipe, &err, sizeof(err));
	(void)w;
	_exit(127);
}

pid_t scratch_spawn(char *const argv[], const struct spawn_opts *o, char *why, size_t why_len)
{
	int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	int out_fd = o->log_path ? open(o->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : null_fd;
	int ep[2] = { -1, -1 };
	pid_t pid = -1;
	if (null_fd < 0 || out_fd < 0) {
		snprintf(why, why_len, "cannot open %s: %s", out_fd < 0 && o->log_path ? o->log_path : "/dev/null",
			 strerror(errno));
		goto out;
	}
	if (pipe2(ep, O_CLOEXEC) != 0) {
		snprintf(why, why_len, "pipe: %s", strerror(errno));
		goto out;
	}
	pid_t parent = getpid();
	pid = fork();
	if (pid < 0) {
		snprintf(why, why_len, "fork for %s: %s", argv[0], strerror(errno));
		goto out;
	}
	if (pid == 0)
		spawn_child(argv, o, parent, null_fd, out_fd, ep[1]);
	close(ep[1]);
	ep[1] = -1;
	int err = 0;
	ssize_t n;
	while ((n = read(ep[0], &err, sizeof(err))) < 0 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof(err)) {   /* exec failed: the child said why */
		waitpid(pid, NULL, 0);
		snprintf(why, why_len, "cannot run %s: %s", argv[0], strerror(err));
		pid = -1;
	}
out:
	if (ep[0] >= 0)
		close(ep[0]);
	if (ep[1] >= 0)
		close(ep[1]);
	if (out_fd >= 0 && out_fd != null_fd)
		close(out_fd);
	if (null_fd >= 0)
		close(null_fd);
	return pid;
}

int scratch_wait(pid_t pid, volatile sig_atomic_t *stop, int *status)
{
	int pidfd = stop ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
	for (;;) {
		if (stop && *stop) {
			if (pidfd >= 0)
				close(pidfd);
			return 1;
		}
		pid_t r = waitpid(pid, status, stop ? WNOHANG : 0);
		if (r == pid) {
			if (pidfd >= 0)
				close(pidfd);
			return 0;
		}
		if (r < 0 && errno != EINTR) {
			if (pidfd >= 0)
				close(pidfd);
			return -1;
		}
		if (r == 0) {   /* still running: sleep until it ends, a signal, or 100 ms */
			if (pidfd >= 0) {
				struct pollfd p = { .fd = pidfd, .events = POLLIN };
				poll(&p, 1, 100);
			} else {
				usleep(10000);
			}
		}
	}
}

/* SIGKILL every child listed in /proc (ours and orphans re-parented to us); how many were signalled. */
static int kill_listed_children(void)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/task/%ld/children", (long)syscall(SYS_gettid));
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	int n = 0;
	long pid;
	while (fscanf(f, "%ld", &pid) == 1)
		if (pid > 0 && kill((pid_t)pid, SIGKILL) == 0)
			n++;
	fclose(f);
	return n;
}

int scratch_kill_children(unsigned timeout_ms)
{
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int reaped = 0;
	for (;;) {
		kill_listed_children();
		pid_t r = waitpid(-1, NULL, WNOHANG);
		if (r > 0) {
			reaped++;
			continue;
		}
		if (r < 0 && errno != EINTR)
			return reaped;   /* ECHILD: none left */
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > (long)timeout_ms)
			return reaped;
		usleep(1000);
	}
}

void scratch_describe_exit(int status, const char *log_path, char *buf, size_t len)
{
	char tail[512] = "";
	FILE *f = log_path ? fopen(log_path, "re") : NULL;
	if (f) {
		if (fseek(f, -(long)(sizeof(tail) - 1), SEEK_END) != 0)
			rewind(f);
		size_t n = fread(tail, 1, sizeof(tail) - 1, f);
		tail[n] = '\0';
		fclose(f);
		while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == '\r'))
			tail[--n] = '\0';
	}
	char *last = strrchr(tail, '\n');
	last = last ? last + 1 : tail;
	if (WIFSIGNALED(status))
		snprintf(buf, len, "signal %d%s%s", WTERMSIG(status), last[0] ? ": " : "", last);
	else
		snprintf(buf, len, "exit %d%s%s", WEXITSTATUS(status), last[0] ? ": " : "", last);
}
