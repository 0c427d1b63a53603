/* Validate and load a flat guest image. */
#include "kvm_image.h"

#include <stdio.h>
#include <string.h>

_Static_assert(sizeof(struct kvm_image_header) == KVM_IMAGE_HEADER_BYTES, "start.S writes the header by hand");

int kvm_image_load(uint8_t *ram, uint64_t ram_bytes, const void *image, size_t image_bytes,
		   uint64_t limit_gpa, struct kvm_image_header *hdr, char *why, size_t why_len)
{
	if (image_bytes < sizeof(*hdr)) {
		snprintf(why, why_len, "image of %zu bytes is shorter than its header", image_bytes);
		return -1;
	}
	memcpy(hdr, image, sizeof(*hdr));
	if (hdr->magic != KVM_IMAGE_MAGIC || hdr->version != KVM_IMAGE_VERSION ||
	    hdr->header_bytes != sizeof(*hdr)) {
		snprintf(why, why_len, "not a gapbench guest image (magic %#llx, version %u, header %u bytes)",
			 (unsigned long long)hdr->magic, hdr->version, hdr->header_bytes);
		return -1;
	}
	if (limit_gpa > ram_bytes)
		limit_gpa = ram_bytes;
	uint64_t load = hdr->load_gpa, end = hdr->bss_end_gpa;
	if (load != KVM_IMAGE_GPA || end < load || end - load < image_bytes || end > limit_gpa) {
		snprintf(why, why_len,
			 "image [%#llx, %#llx) with %zu bytes loaded must lie in [%#llx, %#llx)",
			 (unsigned long long)load, (unsigned long long)end, image_bytes,
			 (unsigned long long)KVM_IMAGE_GPA, (unsigned long long)limit_gpa);
		return -1;
	}
	if (hdr->entry_gpa < load + sizeof(*hdr) || hdr->entry_gpa >= load + image_bytes) {
		snprintf(why, why_len, "entry %#llx lies outside the loaded code", (unsigned long long)hdr->entry_gpa);
		return -1;
	}
	memcpy(ram + load, image, image_bytes);
	memset(ram + load + image_bytes, 0, end - load - image_bytes);
	return 0;
}
