#include "measure_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jsontext.h"

#define HOLDER_TEXT_MAX 1024
#define OBSERVE_MAX_RUNS 64   /* runs listed per look: more is a machine in trouble anyway */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void iso_time(time_t t, char *buf, size_t len)
{
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%S%z", &tm);
}

/* When process pid started, from /proc (local ISO 8601); "" when it cannot be told. */
static void proc_started(pid_t pid, char *buf, size_t len)
{
	buf[0] = '\0';
	char path[64], text[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	const char *p = strrchr(text, ')');   /* the command name may hold spaces */
	unsigned long long ticks = 0;
	/* after ") ": state is field 3, starttime field 22 */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
			 &ticks) != 1)
		return;
	f = fopen("/proc/stat", "r");
	if (!f)
		return;
	long long btime = -1;
	char line[256];
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %lld", &btime) == 1)
			break;
	fclose(f);
	long hz = sysconf(_SC_CLK_TCK);
	if (btime < 0 || hz <= 0)
		return;
	iso_time((time_t)(btime + (long long)(ticks / (unsigned long long)hz)), buf, len);
}

/* The holder's "pid=N started=ISO out=DIR" line, for its out= part. */
static void holder_text(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	char *nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
}

static json_t *find_run(json_t *runs, pid_t pid, const char *started)
{
	size_t i;
	json_t *r;
	json_array_foreach(runs, i, r) {
		if (json_integer_value(json_object_get(r, "pid")) == pid &&
		    strcmp(json_string_value(json_object_get(r, "started")) ?: "", started) == 0)
			return r;
	}
	return NULL;
}

/* Add (or update) the run pid in info.runs_beside; holds: it held the measuring lock. */
static void note_run(struct measure_lock *ml, pid_t pid, bool holds, bool waited_for)
{
	char started[64], seen[64];
	proc_started(pid, started, sizeof(started));
	json_t *runs = json_object_get(ml->info, "runs_beside");
	json_t *r = find_run(runs, pid, started);
	if (!r) {
		iso_time(time(NULL), seen, sizeof(seen));
		r = json_pack("{s:i, s:s, s:s}", "pid", (int)pid, "started", started, "first_seen", seen);
		if (!r)
			return;
		json_array_append_new(runs, r);
	}
	if (holds) {
		char text[HOLDER_TEXT_MAX];
		holder_text(ml->fd, text, sizeof(text));
		const char *out = strstr(text, " out=");
		json_object_set_new(r, "held_measuring_lock", json_true());
		if (out)
			json_object_set_new(r, "out", json_text(out + 5));
	}
	if (waited_for)
		json_object_set_new(r, "this_run_waited_for_it", json_true());
}

/* The pid holding a lock of [start, start + len) that conflicts with a write lock, or 0. */
static pid_t lock_owner(int fd, off_t start, off_t len, off_t *got_start, off_t *got_len)
{
	struct flock q = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
	if (fcntl(fd, F_GETLK, &q) != 0 || q.l_type == F_UNLCK)
		return 0;
	if (got_start)
		*got_start = q.l_start;
	if (got_len)
		*got_len = q.l_len;
	return q.l_pid;
}

void measure_lock_observe(struct measure_lock *ml)
{
	if (ml->fd < 0)
		return;
	pid_t holder = ml->held ? 0 : lock_owner(ml->fd, 0, 1, NULL, NULL);
	if (holder > 0)
		note_run(ml, holder, true, false);
	/* the registrations: byte 1 + pid of every run alive; F_GETLK names one per range */
	struct { off_t start, len; } todo[OBSERVE_MAX_RUNS];   /* len 0: to the end */
	size_t n_todo = 0, found = 0;
	todo[n_todo++] = (typeof(todo[0])){ 1, 0 };
	while (n_todo && found < OBSERVE_MAX_RUNS) {
		off_t start = todo[n_todo - 1].start, len = todo[n_todo - 1].len, s = 0, l = 0;
		n_todo--;
		pid_t pid = lock_owner(ml->fd, start, len, &s, &l);
		if (pid <= 0)
			continue;
		found++;
		if (pid != holder)
			note_run(ml, pid, false, false);
		if (s > start && n_todo < OBSERVE_MAX_RUNS)
			todo[n_todo++] = (typeof(todo[0])){ start, s - start };
		if (l > 0 && (len == 0 || s + l < start + len) && n_todo < OBSERVE_MAX_RUNS)
			todo[n_todo++] = (typeof(todo[0])){ s + l, len == 0 ? 0 : start + len - (s + l) };
	}
}

static void lock_path(char *buf, size_t len)
{
	const char *env = getenv(MEASURE_LOCK_ENV);
	if (env && env[0])
		snprintf(buf, len, "%s", env);
	else
		snprintf(buf, len, "%s", access("/run", W_OK) == 0 ? MEASURE_LOCK_PATH : MEASURE_LOCK_FALLBACK);
}

static int open_lock_file(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (fd >= 0) {
		(void)fchmod(fd, 0666);   /* other users' runs must be able to take it too; fails when not ours */
		return fd;
	}
	/* another user's file in a sticky folder (fs.protected_regular) opens without O_CREAT */
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd;
}

int measure_lock_take(struct measure_lock *ml, bool take, const char *started, const char *out,
		      volatile int *interrupted)
{
	memset(ml, 0, sizeof(*ml));
	ml->fd = -1;
	lock_path(ml->path, sizeof(ml->path));
	ml->info = json_pack("{s:o, s:b, s:b, s:[]}", "path", json_text(ml->path), "requested", take, "taken", 0,
			     "runs_beside");
	ml->fd = open_lock_file(ml->path);
	if (ml->fd < 0) {
		int err = errno;
		fprintf(stderr, "harness: warning: cannot open the measuring lock %s: %s; measuring without it\n",
			ml->path, strerror(err));
		json_object_set_new(ml->info, "why", json_text(strerror(err)));
		return 0;
	}
	struct flock reg = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 1 + (off_t)getpid(), .l_len = 1 };
	(void)fcntl(ml->fd, F_SETLK, &reg);   /* only so that others see us: no harm when it fails */
	measure_lock_observe(ml);
	if (!take)
		return 0;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
	double t0 = now_s();
	if (fcntl(ml->fd, F_SETLK, &fl) != 0) {
		if (errno != EACCES && errno != EAGAIN) {
			int err = errno;
			fprintf(stderr, "harness: warning: cannot take the measuring lock %s: %s; measuring without it\n",
				ml->path, strerror(err));
			json_object_set_new(ml->info, "why", json_text(strerror(err)));
			return 0;
		}
		pid_t holder = lock_owner(ml->fd, 0, 1, NULL, NULL);
		char text[HOLDER_TEXT_MAX];
		holder_text(ml->fd, text, sizeof(text));
		if (holder > 0)
			note_run(ml, holder, true, true);
		/* "pid=N started=T out=DIR", as the holder wrote it (when it had the time to) */
		const char *started_at = strstr(text, " started="), *out_at = strstr(text, " out=");
		int started_len = started_at && out_at > started_at ? (int)(out_at - started_at - 9) : 0;
		fprintf(stderr, "harness: waiting for the measuring lock %s: another gapbench run is measuring (pid %d%s%.*s%s%s)"
			"; --no-lock measures beside it\n", ml->path, (int)holder, started_len ? ", started " : "",
			started_len, started_len ? started_at + 9 : "", out_at ? ", results in " : "", out_at ? out_at + 5 : "");
		while (fcntl(ml->fd, F_SETLKW, &fl) != 0) {
			if (errno != EINTR) {
				int err = errno;
				fprintf(stderr, "harness: warning: cannot take the measuring lock %s: %s; measuring without "
					"it\n", ml->path, strerror(err));
				json_object_set_new(ml->info, "why", json_text(strerror(err)));
				return 0;
			}
			if (interrupted && *interrupted)
				return -1;
		}
	}
	ml->held = true;
	json_object_set_new(ml->info, "taken", json_true());
	json_object_set_new(ml->info, "waited_s", json_real(now_s() - t0));
	char line[HOLDER_TEXT_MAX];
	int n = snprintf(line, sizeof(line), "pid=%d started=%s out=%s\n", (int)getpid(), started, out);
	if (n >= (int)sizeof(line))
		n = (int)sizeof(line) - 1;
	if (ftruncate(ml->fd, 0) != 0 || pwrite(ml->fd, line, (size_t)n, 0) != n) {
		/* only a courtesy for the runs that wait: F_GETLK names us anyway */
	}
	return 0;
}

void measure_lock_release(struct measure_lock *ml)
{
	json_decref(ml->info);
	ml->info = NULL;
	/* the lock is released when the process exits: a waiting run starts after our last line */
}
