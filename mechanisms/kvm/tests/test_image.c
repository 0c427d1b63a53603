/*
 * Unit tests of the image loader (kvm_image.c) on synthetic images: a valid
 * image lands at its load address with its .bss zeroed; a bad magic,
 * version, header size, load address, entry or size is refused with a
 * reason and nothing is written.
 */
#include <stdlib.h>
#include <string.h>

#include "../kvm_abi.h"
#include "../kvm_image.h"
#include "check.h"

#define RAM_BYTES (4u << 20)
#define IMAGE_BYTES 4096u

static void make_image(uint8_t *img, struct kvm_image_header *h)
{
	*h = (struct kvm_image_header){
		.magic = KVM_IMAGE_MAGIC, .version = KVM_IMAGE_VERSION, .header_bytes = sizeof(*h),
		.load_gpa = KVM_IMAGE_GPA, .entry_gpa = KVM_IMAGE_GPA + 64, .bss_end_gpa = KVM_IMAGE_GPA + 3 * IMAGE_BYTES,
	};
	for (unsigned i = 0; i < IMAGE_BYTES; i++)
		img[i] = (uint8_t)(i * 7 + 1);
	memcpy(img, h, sizeof(*h));
}

static int load(uint8_t *ram, const uint8_t *img, size_t bytes, char *why)
{
	struct kvm_image_header out;
	return kvm_image_load(ram, RAM_BYTES, img, bytes, KVM_STACK_TOP_GPA - 0x10000, &out, why, 200);
}

static void test_valid(uint8_t *ram, uint8_t *img)
{
	struct kvm_image_header h, out;
	char why[200] = "";
	make_image(img, &h);
	memset(ram, 0xcc, RAM_BYTES);
	int rc = kvm_image_load(ram, RAM_BYTES, img, IMAGE_BYTES, KVM_STACK_TOP_GPA - 0x10000, &out, why, sizeof(why));
	CHECK_MSG(rc == 0, "valid image refused: %s", why);
	CHECK_MSG(out.entry_gpa == KVM_IMAGE_GPA + 64, "entry returned");
	CHECK_MSG(memcmp(ram + KVM_IMAGE_GPA, img, IMAGE_BYTES) == 0, "bytes copied to the load address");
	int bss_zero = 1;
	for (unsigned i = IMAGE_BYTES; i < 3 * IMAGE_BYTES; i++)
		bss_zero &= ram[KVM_IMAGE_GPA + i] == 0;
	CHECK_MSG(bss_zero, ".bss zeroed");
	CHECK_MSG(ram[KVM_IMAGE_GPA + 3 * IMAGE_BYTES] == 0xcc, "nothing written past .bss");
	CHECK_MSG(ram[KVM_IMAGE_GPA - 1] == 0xcc, "nothing written before the image");
}

static void expect_refused(uint8_t *ram, uint8_t *img, size_t bytes, const char *what, const char *reason_part)
{
	char why[200] = "";
	memset(ram, 0xcc, RAM_BYTES);
	CHECK_MSG(load(ram, img, bytes, why) != 0, "%s accepted", what);
	CHECK_MSG(strstr(why, reason_part) != NULL, "%s: reason '%s' lacks '%s'", what, why, reason_part);
	CHECK_MSG(ram[KVM_IMAGE_GPA] == 0xcc, "%s: nothing written", what);
}

static void test_refusals(uint8_t *ram, uint8_t *img)
{
	struct kvm_image_header h;
	expect_refused(ram, img, 8, "truncated image", "shorter than its header");

	make_image(img, &h);
	img[0] ^= 1;
	expect_refused(ram, img, IMAGE_BYTES, "bad magic", "not a gapbench guest image");

	make_image(img, &h);
	h.version = 2;
	memcpy(img, &h, sizeof(h));
	expect_refused(ram, img, IMAGE_BYTES, "bad version", "not a gapbench guest image");

	make_image(img, &h);
	h.load_gpa = 0x200000;
	memcpy(img, &h, sizeof(h));
	expect_refused(ram, img, IMAGE_BYTES, "wrong load address", "must lie in");

	make_image(img, &h);
	h.bss_end_gpa = KVM_STACK_TOP_GPA;
	memcpy(img, &h, sizeof(h));
	expect_refused(ram, img, IMAGE_BYTES, ".bss over the stack", "must lie in");

	make_image(img, &h);
	h.bss_end_gpa = KVM_IMAGE_GPA + 100;
	memcpy(img, &h, sizeof(h));
	expect_refused(ram, img, IMAGE_BYTES, "image longer than its memory", "must lie in");

	make_image(img, &h);
	h.entry_gpa = KVM_IMAGE_GPA + IMAGE_BYTES;
	memcpy(img, &h, sizeof(h));
	expect_refused(ram, img, IMAGE_BYTES, "entry past the code", "entry");

	make_image(img, &h);
	h.entry_gpa = KVM_IMAGE_GPA;
	memcpy(img, &h, sizeof(h));
	expect_refused(ram, img, IMAGE_BYTES, "entry inside the header", "entry");
}

int main(void)
{
	uint8_t *ram = calloc(1, RAM_BYTES), *img = calloc(1, IMAGE_BYTES);
	if (!ram || !img)
		return 1;
	test_valid(ram, img);
	test_refusals(ram, img);
	free(ram);
	free(img);
	if (check_failures)
		fprintf(stderr, "%d failure(s)\n", check_failures);
	return check_failures ? 1 : 0;
}
