/*
 * Unit tests of the page-table and GDT builders (kvm_pagetable.c) on known
 * inputs: the exact entries written, translations through a software walk,
 * and refusal of bad arguments.
 */
#include <stdlib.h>
#include <string.h>

#include "../kvm_abi.h"
#include "../kvm_pagetable.h"
#include "check.h"

#define RAM_BYTES (256u * 1024u)

static uint64_t entry(const uint8_t *ram, uint64_t table_gpa, unsigned i)
{
	uint64_t e;
	memcpy(&e, ram + table_gpa + 8u * i, sizeof(e));
	return e;
}

static void test_entries(uint8_t *ram)
{
	char why[200];
	memset(ram, 0xee, RAM_BYTES);
	uint64_t cr3 = kvm_pt_build(ram, RAM_BYTES, 0x10000, 4 * KVM_GIB, why, sizeof(why));
	CHECK_MSG(cr3 == 0x10000, "cr3 %#llx (%s)", (unsigned long long)cr3, why);
	CHECK_MSG(kvm_pt_bytes(4 * KVM_GIB) == 6 * 4096, "6 pages for 4 GiB");
	CHECK_MSG(entry(ram, 0x10000, 0) == (0x11000 | 7), "PML4[0] -> PDPT, present, writable, user");
	CHECK_MSG(entry(ram, 0x10000, 1) == 0, "PML4[1] empty (the builder zeroes the table)");
	for (unsigned g = 0; g < 4; g++)
		CHECK_MSG(entry(ram, 0x11000, g) == ((0x12000 + 0x1000 * g) | 7), "PDPT[%u]", g);
	CHECK_MSG(entry(ram, 0x11000, 4) == 0, "PDPT[4] empty");
	CHECK_MSG(entry(ram, 0x12000, 0) == (0x0 | 0x87), "PD0[0] maps 0 as a 2 MiB page");
	CHECK_MSG(entry(ram, 0x12000, 1) == (0x200000 | 0x87), "PD0[1] maps 2 MiB");
	CHECK_MSG(entry(ram, 0x15000, 511) == (0xffe00000ull | 0x87), "PD3[511] maps the last 2 MiB below 4 GiB");
	CHECK_MSG(ram[0x16000] == 0xee, "nothing written after the tables");
}

static void test_translate(uint8_t *ram)
{
	char why[200];
	uint64_t cr3 = kvm_pt_build(ram, RAM_BYTES, 0x10000, 4 * KVM_GIB, why, sizeof(why));
	static const uint64_t vas[] = { 0, 0x1234, KVM_IMAGE_GPA + 0x42, KVM_SLOT_WINDOW_GPA + 0x1fffff,
					0xfffff000ull, 0xffffffffull };
	for (size_t i = 0; i < sizeof(vas) / sizeof(vas[0]); i++) {
		uint64_t pa = ~0ull;
		CHECK_MSG(kvm_pt_translate(ram, RAM_BYTES, cr3, vas[i], &pa) && pa == vas[i],
		      "identity map of %#llx gave %#llx", (unsigned long long)vas[i], (unsigned long long)pa);
	}
	uint64_t pa;
	CHECK_MSG(!kvm_pt_translate(ram, RAM_BYTES, cr3, 4 * KVM_GIB, &pa), "4 GiB is not mapped");
	CHECK_MSG(!kvm_pt_translate(ram, RAM_BYTES, cr3, 1ull << 39, &pa), "PML4[1] is not mapped");

	kvm_pt_build(ram, RAM_BYTES, 0x20000, 1 * KVM_GIB, why, sizeof(why));
	CHECK_MSG(kvm_pt_translate(ram, RAM_BYTES, 0x20000, 0x3fffffff, &pa) && pa == 0x3fffffff, "1 GiB map: last byte");
	CHECK_MSG(!kvm_pt_translate(ram, RAM_BYTES, 0x20000, 0x40000000, &pa), "1 GiB map: 1 GiB not mapped");
}

static void test_refusals(uint8_t *ram)
{
	char why[200] = "";
	CHECK_MSG(kvm_pt_build(ram, RAM_BYTES, 0x10000, 0, why, sizeof(why)) == 0, "0 bytes refused");
	CHECK_MSG(kvm_pt_build(ram, RAM_BYTES, 0x10000, 5 * KVM_GIB, why, sizeof(why)) == 0, "5 GiB refused");
	CHECK_MSG(kvm_pt_build(ram, RAM_BYTES, 0x10000, KVM_GIB + 4096, why, sizeof(why)) == 0, "partial GiB refused");
	CHECK_MSG(kvm_pt_build(ram, RAM_BYTES, 0x10800, KVM_GIB, why, sizeof(why)) == 0, "unaligned tables refused");
	CHECK_MSG(kvm_pt_build(ram, RAM_BYTES, 0, KVM_GIB, why, sizeof(why)) == 0, "tables at 0 refused");
	CHECK_MSG(kvm_pt_build(ram, RAM_BYTES, RAM_BYTES - 0x2000, KVM_GIB, why, sizeof(why)) == 0,
	      "tables past the end of RAM refused");
	CHECK_MSG(strstr(why, "do not fit") != NULL, "reason names the problem: %s", why);
}

static void test_gdt(uint8_t *ram)
{
	memset(ram, 0, RAM_BYTES);
	CHECK_MSG(kvm_gdt_build(ram, RAM_BYTES, KVM_GDT_GPA) == 23, "limit of 3 descriptors");
	uint64_t code = entry(ram, KVM_GDT_GPA, KVM_SEL_CODE64 / 8), data = entry(ram, KVM_GDT_GPA, KVM_SEL_DATA / 8);
	CHECK_MSG(entry(ram, KVM_GDT_GPA, 0) == 0, "null descriptor");
	CHECK_MSG((code >> 53) & 1, "code: L (64-bit) set");
	CHECK_MSG(!((code >> 54) & 1), "code: D clear (required with L)");
	CHECK_MSG(((code >> 40) & 0x9f) == 0x9b, "code: present, S, execute/read, accessed");
	CHECK_MSG(((data >> 40) & 0x9f) == 0x93, "data: present, S, read/write, accessed");
	CHECK_MSG(kvm_gdt_build(ram, 16, 0) == 0, "GDT that does not fit refused");
}

int main(void)
{
	uint8_t *ram = calloc(1, RAM_BYTES);
	if (!ram)
		return 1;
	test_entries(ram);
	test_translate(ram);
	test_refusals(ram);
	test_gdt(ram);
	free(ram);
	if (check_failures)
		fprintf(stderr, "%d failure(s)\n", check_failures);
	return check_failures ? 1 : 0;
}
