#include "infile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *kind_of(mode_t m)
{
	if (S_ISDIR(m))
		return "is a directory";
	if (S_ISFIFO(m))
		return "is a FIFO, not a regular file";
	if (S_ISCHR(m))
		return "is a character device, not a regular file";
	if (S_ISBLK(m))
		return "is a block device, not a regular file";
	if (S_ISSOCK(m))
		return "is a socket, not a regular file";
	return "is not a regular file";
}

FILE *infile_open(const char *path, size_t max_bytes, char *err, size_t err_len)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, err_len, "%s: %s", path, kind_of(st.st_mode));
		close(fd);
		return NULL;
	}
	if ((unsigned long long)st.st_size > max_bytes) {
		snprintf(err, err_len, "%s: %lld bytes, more than the %zu this input may have", path,
			 (long long)st.st_size, max_bytes);
		close(fd);
		return NULL;
	}
	int flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		(void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	FILE *f = fdopen(fd, "r");
	if (!f) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		close(fd);
	}
	return f;
}

int infile_read(const char *path, size_t max_bytes, char **buf, size_t *len, char *err, size_t err_len)
{
	*buf = NULL;
	*len = 0;
	FILE *f = infile_open(path, max_bytes, err, err_len);
	if (!f)
		return -1;
	size_t cap = 4096, n = 0;
	char *b = malloc(cap + 1);
	while (b) {
		if (n == cap) {
			if (cap >= max_bytes) {   /* grew while we read it */
				snprintf(err, err_len, "%s: more than the %zu bytes this input may have", path, max_bytes);
				free(b);
				fclose(f);
				return -1;
			}
			cap = cap * 2 > max_bytes ? max_bytes : cap * 2;
			char *nb = realloc(b, cap + 1);
			if (!nb) {
				free(b);
				b = NULL;
				break;
			}
			b = nb;
		}
		size_t got = fread(b + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (!b) {
		snprintf(err, err_len, "%s: out of memory", path);
		fclose(f);
		return -1;
	}
	if (ferror(f)) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		free(b);
		fclose(f);
		return -1;
	}
	fclose(f);
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}
