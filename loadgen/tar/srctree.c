/* The source-like tree generator (srctree.h). */
#include "srctree.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "splitmix.h"

#define FILES_PER_DIR 32

static const char *const tops[] = { "arch", "drivers", "fs", "kernel", "mm", "net", "include", "lib" };
static const char *const words[] = {
	"queue", "buffer", "device", "irq", "timer", "page", "inode", "sock", "skb", "dma", "lock", "node",
	"entry", "table", "state", "flags", "count", "index", "offset", "len", "size", "addr", "priv", "ops",
	"desc", "ring", "slot", "cache", "map", "list", "head", "next", "prev", "work", "task", "sched",
	"event", "handler", "ctx", "info", "data", "reg", "val", "mask", "shift", "base", "port", "chan",
};
#define NWORDS (sizeof(words) / sizeof(words[0]))

const char *srctree_check(int64_t size_mb, int64_t files)
{
	if (size_mb < 1 || size_mb > SRCTREE_SIZE_MB_MAX)
		return "size_mb must be in [1, 2048]";
	if (files < 1 || files > SRCTREE_FILES_MAX)
		return "files must be in [1, 1000000]";
	if ((uint64_t)files * SRCTREE_MIN_AVG_BYTES > (uint64_t)size_mb << 20)
		return "too many files for size_mb: they must average at least 64 bytes";
	return NULL;
}

int srctree_plan_make(struct srctree_plan *p, uint64_t seed, uint64_t total_bytes, uint32_t files)
{
	memset(p, 0, sizeof(*p));
	if (files == 0 || files > SRCTREE_FILES_MAX || total_bytes > UINT32_MAX * (uint64_t)files)
		return -1;
	uint32_t *w = malloc(sizeof(*w) * files);
	if (!w)
		return -1;
	/* weights: 80% 1..8 KiB, 17% 8..64 KiB, 3% 64..256 KiB, then scaled to the total */
	uint64_t sum = 0;
	for (uint32_t i = 0; i < files; i++) {
		uint64_t s = splitmix64_stream(seed, i, 1);
		uint64_t r = splitmix64_next(&s);
		uint64_t cls = r % 100, x = splitmix64_next(&s);
		w[i] = cls < 80 ? 1024 + (uint32_t)(x % (7 * 1024)) : cls < 97 ? 8192 + (uint32_t)(x % (56 * 1024))
								     : 65536 + (uint32_t)(x % (192 * 1024));
		sum += w[i];
	}
	uint64_t given = 0;
	for (uint32_t i = 0; i < files; i++) {
		/* total_bytes < 2^44 and w < 2^18: no overflow */
		w[i] = (uint32_t)(total_bytes * w[i] / sum);
		given += w[i];
	}
	for (uint32_t i = 0; given < total_bytes; i = (i + 1) % files, given++)
		w[i]++;
	p->seed = seed;
	p->total_bytes = total_bytes;
	p->files = files;
	p->size = w;
	return 0;
}

void srctree_plan_free(struct srctree_plan *p)
{
	free(p->size);
	p->size = NULL;
}

int srctree_path(const struct srctree_plan *p, uint32_t i, char *buf, size_t len)
{
	uint32_t dir = i / FILES_PER_DIR;
	uint64_t s = splitmix64_stream(p->seed, i, 2);
	uint64_t ds = splitmix64_stream(p->seed, dir, 3);
	const char *top = tops[dir % (sizeof(tops) / sizeof(tops[0]))];
	const char *dword = words[splitmix64_next(&ds) % NWORDS];
	const char *fword = words[splitmix64_next(&s) % NWORDS];
	const char *ext = splitmix64_next(&s) % 4 == 0 ? "h" : "c";
	int n = snprintf(buf, len, "%s/%s%u/%s_%u.%s", top, dword, dir, fword, i, ext);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* One C-like line (or a few) into line; returns its length. */
static int make_line(uint64_t *s, char *line, size_t len)
{
	const char *a = words[splitmix64_next(s) % NWORDS], *b = words[splitmix64_next(s) % NWORDS];
	const char *c = words[splitmix64_next(s) % NWORDS];
	unsigned num = (unsigned)(splitmix64_next(s) % 4096);
	switch (splitmix64_next(s) % 10) {
	case 0:
		return snprintf(line, len, "static int %s_%s(struct %s *%s, unsigned long %s)\n{\n", a, b, c, a, b);
	case 1:
		return snprintf(line, len, "\tif (%s->%s & 0x%x)\n\t\treturn -EINVAL;\n", a, b, num);
	case 2:
		return snprintf(line, len, "\tfor (i = 0; i < %u; i++)\n\t\t%s[i] = %s_%s(%s, i);\n", num, a, b, c, a);
	case 3:
		return snprintf(line, len, "/* %s the %s %s before the %s is released */\n", a, b, c, a);
	case 4:
		return snprintf(line, len, "#define %s_%s_%s\t%u\n", a, b, c, num);
	case 5:
		return snprintf(line, len, "\t%s->%s = %s_%s(%s, %u);\n", a, b, c, a, b, num);
	case 6:
		return snprintf(line, len, "\tspin_lock(&%s->lock);\n\tlist_add(&%s->%s, &%s->head);\n"
				"\tspin_unlock(&%s->lock);\n", a, b, c, a, a);
	case 7:
		return snprintf(line, len, "\treturn %s;\n}\n\n", a);
	case 8:
		return snprintf(line, len, "struct %s_%s {\n\tu32 %s;\n\tu64 %s;\n};\n\n", a, b, c, a);
	default:
		return snprintf(line, len, "\tswitch (%s) {\n\tcase %u:\n\t\tbreak;\n\t}\n", c, num);
	}
}

void srctree_fill(uint64_t seed, uint32_t i, char *buf, size_t len)
{
	if (len == 0)
		return;
	uint64_t s = splitmix64_stream(seed, i, 4);
	char line[256];
	size_t at = 0;
	int n = snprintf(line, sizeof(line), "// SPDX-License-Identifier: GPL-2.0\n/* generated file %u */\n", i);
	for (;;) {
		size_t take = (size_t)n < len - at ? (size_t)n : len - at;
		memcpy(buf + at, line, take);
		at += take;
		if (at == len)
			break;
		n = make_line(&s, line, sizeof(line));
	}
	buf[len - 1] = '\n';
}

int srctree_write(const struct srctree_plan *p, const char *root, char *why, size_t why_len)
{
	uint32_t biggest = 0;
	for (uint32_t i = 0; i < p->files; i++)
		biggest = p->size[i] > biggest ? p->size[i] : biggest;
	char *buf = malloc(biggest ? biggest : 1);
	if (!buf) {
		snprintf(why, why_len, "out of memory for a file of %u bytes", biggest);
		return -1;
	}
	int rc = 0;
	char rel[256], path[1024], made[1024] = "";
	for (uint32_t i = 0; i < p->files && rc == 0; i++) {
		if (srctree_path(p, i, rel, sizeof(rel)) != 0 ||
		    snprintf(path, sizeof(path), "%s/%s", root, rel) >= (int)sizeof(path)) {
			snprintf(why, why_len, "path of file %u too long under %s", i, root);
			rc = -1;
			break;
		}
		/* the two folder levels, made once per folder */
		char *slash = strrchr(path, '/');
		*slash = '\0';
		if (strcmp(path, made) != 0) {
			char *mid = strrchr(path, '/');
			*mid = '\0';
			if (mkdir(path, 0755) != 0 && errno != EEXIST)
				rc = -1;
			*mid = '/';
			if (rc == 0 && mkdir(path, 0755) != 0 && errno != EEXIST)
				rc = -1;
			if (rc != 0) {
				snprintf(why, why_len, "mkdir %s: %s", path, strerror(errno));
				break;
			}
			snprintf(made, sizeof(made), "%s", path);
		}
		*slash = '/';
		srctree_fill(p->seed, i, buf, p->size[i]);
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		size_t off = 0;
		while (fd >= 0 && off < p->size[i]) {
			ssize_t w = write(fd, buf + off, p->size[i] - off);
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		bool ok = fd >= 0 && off == p->size[i];
		if (fd >= 0 && close(fd) != 0)
			ok = false;
		if (!ok) {
			snprintf(why, why_len, "cannot write %s: %s", path, strerror(errno));
			rc = -1;
		}
	}
	free(buf);
	return rc;
}
