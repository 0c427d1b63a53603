#include "outdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output.h"

/* What `harness run` and `harness plot` write into a results folder. */
static const char *const results_entries[] = {
	"summary.csv", "meta.json", "cases.jsonl", "hist", "raw", "data", "plots", "report.html", "report.txt", NULL,
};

static bool is_results_entry(const char *name)
{
	for (size_t i = 0; results_entries[i]; i++) {
		size_t n = strlen(results_entries[i]);
		/* the entry itself, or a temporary file of it that a crash left (summary.csv.tmp) */
		if (strncmp(name, results_entries[i], n) == 0 && (name[n] == '\0' || strcmp(name + n, ".tmp") == 0))
			return true;
	}
	return false;
}

static bool resolves_to_root(const char *path)
{
	char real[PATH_MAX];
	return realpath(path, real) && strcmp(real, "/") == 0;
}

/* "/" after dropping "." and empty parts and letting ".." take the part before it, as written. */
static bool lexically_root(const char *path)
{
	char cwd[PATH_MAX] = "";
	if (path[0] != '/' && !getcwd(cwd, sizeof(cwd)))
		return false;
	char buf[2 * PATH_MAX];
	snprintf(buf, sizeof(buf), "%s/%s", cwd, path);
	int depth = 0;
	for (char *save = NULL, *part = strtok_r(buf, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
		if (!strcmp(part, "."))
			continue;
		if (!strcmp(part, ".."))
			depth = depth > 0 ? depth - 1 : 0;
		else
			depth++;
	}
	return depth == 0;
}

int outdir_check_path(const char *out, char *err, size_t err_len)
{
	if (!out[0]) {
		snprintf(err, err_len, "harness run: --out is empty: name a results folder");
		return -1;
	}
	if (lexically_root(out) || resolves_to_root(out)) {
		snprintf(err, err_len, "harness run: --out '%s' is the root folder: name a results folder", out);
		return -1;
	}
	return 0;
}

int outdir_lock(const char *out, bool *busy, char *err, size_t err_len)
{
	*busy = false;
	if (outdir_check_path(out, err, err_len) != 0)
		return -1;
	if (mkdir_p(out) != 0) {
		snprintf(err, err_len, "harness: cannot create %s: %s", out, strerror(errno));
		return -1;
	}
	if (resolves_to_root(out)) {   /* "new/.." only resolves once new exists */
		snprintf(err, err_len, "harness run: --out '%s' is the root folder: name a results folder", out);
		return -1;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", out, OUTDIR_LOCK_NAME);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, err_len, "harness: cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	/* a POSIX record lock belongs to this process: no case process inherits it, and it dies with us */
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
	if (fcntl(fd, F_SETLK, &fl) != 0) {
		int saved = errno;
		if (saved == EACCES || saved == EAGAIN) {
			struct flock who = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
			*busy = true;
			if (fcntl(fd, F_GETLK, &who) == 0 && who.l_type != F_UNLCK)
				snprintf(err, err_len, "harness run: %s is in use by another harness run (pid %d)", out,
					 (int)who.l_pid);
			else
				snprintf(err, err_len, "harness run: %s is in use by another harness run", out);
		} else {
			snprintf(err, err_len, "harness: cannot lock %s: %s", path, strerror(saved));
		}
		close(fd);
		return -1;
	}
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
		/* the pid in the file is only a courtesy: F_GETLK names the holder */
	}
	return fd;
}

static bool empty_dir(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return false;
	bool empty = true;
	struct dirent *e;
	while (empty && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = false;
	closedir(d);
	return empty;
}

static void add_name(char *list, size_t len, const char *name)
{
	size_t used = strlen(list);
	if (used + strlen(name) + 8 >= len) {
		if (!strstr(list, ", ..."))
			snprintf(list + used, len - used, ", ...");
		return;
	}
	snprintf(list + used, len - used, "%s%s", used ? ", " : "", name);
}

int outdir_inspect(const char *out, struct outdir_contents *c, char *err, size_t err_len)
{
	memset(c, 0, sizeof(*c));
	DIR *d = opendir(out);
	if (!d) {
		snprintf(err, err_len, "harness: cannot read %s: %s", out, strerror(errno));
		return -1;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *n = e->d_name;
		if (!strcmp(n, ".") || !strcmp(n, "..") || !strcmp(n, OUTDIR_LOCK_NAME))
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", out, n);
		/* the folders a run makes first hold no results while they are empty */
		if ((!strcmp(n, "hist") || !strcmp(n, "raw") || !strcmp(n, "data")) && empty_dir(path))
			continue;
		c->n_entries++;
		add_name(c->names, sizeof(c->names), n);
		if (!strcmp(n, "summary.csv") || !strcmp(n, "meta.json") || !strcmp(n, "cases.jsonl"))
			c->results = true;
		if (!is_results_entry(n)) {
			c->n_foreign++;
			add_name(c->foreign, sizeof(c->foreign), n);
		}
	}
	closedir(d);
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

int remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	return nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

int outdir_clear(const char *out, char *err, size_t err_len)
{
	DIR *d = opendir(out);
	if (!d) {
		snprintf(err, err_len, "harness: cannot read %s: %s", out, strerror(errno));
		return -1;
	}
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!is_results_entry(e->d_name))
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", out, e->d_name);
		if (remove_tree(path) != 0) {
			snprintf(err, err_len, "harness run: --force cannot remove %s: %s", path, strerror(errno));
			rc = -1;
			break;
		}
	}
	closedir(d);
	return rc;
}
