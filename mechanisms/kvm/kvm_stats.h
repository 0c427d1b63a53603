/*
 * A vCPU's binary statistics (KVM_GET_STATS_FD, Linux >= 5.15): counters
 * the kernel keeps per vCPU, such as "exits" (every VM exit, also those
 * handled in the kernel: HLT, MSR writes, interrupt injection), "irq_exits",
 * "halt_exits", "io_exits", "irq_injections". Read by name; a name the
 * kernel does not have reads as missing, not as zero.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct kvm_stats {
	int fd;
	uint32_t num_desc, name_size, desc_offset, data_offset;
	unsigned char *desc;       /* num_desc descriptors, each sizeof(struct kvm_stats_desc) + name_size */
	size_t desc_bytes;
};

/* Open the stats of the vCPU with file descriptor vcpu_fd. 0, or -1 with why. */
int kvm_stats_open(struct kvm_stats *st, int vcpu_fd, char *why, size_t why_len);
/* The first value of counter `name`; -1 where there is none (or the read fails). */
int kvm_stats_get(const struct kvm_stats *st, const char *name, uint64_t *value);
/* Safe after a failed open, safe twice. */
void kvm_stats_close(struct kvm_stats *st);
