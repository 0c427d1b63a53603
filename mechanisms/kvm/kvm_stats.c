/* A vCPU's binary statistics (kvm_stats.h). */
#include "kvm_stats.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int kvm_stats_open(struct kvm_stats *st, int vcpu_fd, char *why, size_t why_len)
{
	memset(st, 0, sizeof(*st));
	st->fd = ioctl(vcpu_fd, KVM_GET_STATS_FD, NULL);
	if (st->fd < 0) {
		snprintf(why, why_len, "KVM_GET_STATS_FD: %s", strerror(errno));
		return -1;
	}
	struct kvm_stats_header h;
	if (pread(st->fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
		snprintf(why, why_len, "reading the KVM stats header: %s", strerror(errno));
		kvm_stats_close(st);
		return -1;
	}
	st->num_desc = h.num_desc;
	st->name_size = h.name_size;
	st->desc_offset = h.desc_offset;
	st->data_offset = h.data_offset;
	st->desc_bytes = (size_t)h.num_desc * (sizeof(struct kvm_stats_desc) + h.name_size);
	st->desc = malloc(st->desc_bytes ? st->desc_bytes : 1);
	if (!st->desc || pread(st->fd, st->desc, st->desc_bytes, h.desc_offset) != (ssize_t)st->desc_bytes) {
		snprintf(why, why_len, "reading %u KVM stats descriptors: %s", h.num_desc,
			 st->desc ? strerror(errno) : "out of memory");
		kvm_stats_close(st);
		return -1;
	}
	return 0;
}

int kvm_stats_get(const struct kvm_stats *st, const char *name, uint64_t *value)
{
	if (st->fd < 0 || !st->desc)
		return -1;
	size_t stride = sizeof(struct kvm_stats_desc) + st->name_size;
	for (uint32_t i = 0; i < st->num_desc; i++) {
		const struct kvm_stats_desc *d = (const void *)(st->desc + i * stride);
		if (strncmp(d->name, name, st->name_size) != 0 || d->size == 0)
			continue;
		return pread(st->fd, value, sizeof(*value), (off_t)st->data_offset + d->offset) ==
		       (ssize_t)sizeof(*value) ? 0 : -1;
	}
	return -1;
}

void kvm_stats_close(struct kvm_stats *st)
{
	if (st->fd > 0)
		close(st->fd);
	st->fd = -1;
	free(st->desc);
	st->desc = NULL;
}
