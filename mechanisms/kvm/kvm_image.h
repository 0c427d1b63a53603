/*
 * Loading a flat guest image (guest/start.S puts struct kvm_image_header
 * first) into guest RAM. Pure: validates and copies, no KVM calls, so it is
 * unit-tested on known inputs (tests/test_image.c).
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kvm_abi.h"

/*
 * Check the header, copy the image to its load address, zero its .bss.
 * The image and its .bss must lie within [KVM_IMAGE_GPA, limit_gpa) and the
 * entry inside the loaded bytes. Returns 0 and the header, or -1 with why.
 */
int kvm_image_load(uint8_t *ram, uint64_t ram_bytes, const void *image, size_t image_bytes,
		   uint64_t limit_gpa, struct kvm_image_header *hdr, char *why, size_t why_len);
