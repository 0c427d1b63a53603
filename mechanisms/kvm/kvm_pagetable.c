/* Page tables and GDT for a 64-bit guest, built into guest memory. */
#include "kvm_pagetable.h"

#include <stdio.h>
#include <string.h>

#include "kvm_abi.h"

#define ENTRIES_PER_TABLE 512u
#define MAX_MAPPED_GIB 4u

uint64_t kvm_pt_bytes(uint64_t map_bytes)
{
	return (2 + map_bytes / KVM_GIB) * KVM_PAGE_BYTES;
}

static void put_entry(uint8_t *table, unsigned index, uint64_t value)
{
	memcpy(table + (size_t)index * sizeof(uint64_t), &value, sizeof(value));
}

static uint64_t get_entry(const uint8_t *table, unsigned index)
{
	uint64_t value;
	memcpy(&value, table + (size_t)index * sizeof(uint64_t), sizeof(value));
	return value;
}

uint64_t kvm_pt_build(uint8_t *ram, uint64_t ram_bytes, uint64_t pt_gpa, uint64_t map_bytes,
		      char *why, size_t why_len)
{
	if (map_bytes == 0 || map_bytes % KVM_GIB != 0 || map_bytes / KVM_GIB > MAX_MAPPED_GIB) {
		snprintf(why, why_len, "map_bytes %#llx must be 1 to %u whole GiB", (unsigned long long)map_bytes,
			 MAX_MAPPED_GIB);
		return 0;
	}
	if (pt_gpa == 0 || pt_gpa % KVM_PAGE_BYTES != 0) {
		snprintf(why, why_len, "page tables at %#llx: must be a non-zero page-aligned address",
			 (unsigned long long)pt_gpa);
		return 0;
	}
	uint64_t bytes = kvm_pt_bytes(map_bytes);
	if (pt_gpa > ram_bytes || bytes > ram_bytes - pt_gpa) {
		snprintf(why, why_len, "page tables [%#llx, +%#llx) do not fit in %#llx bytes of RAM",
			 (unsigned long long)pt_gpa, (unsigned long long)bytes, (unsigned long long)ram_bytes);
		return 0;
	}
	memset(ram + pt_gpa, 0, bytes);
	uint8_t *pml4 = ram + pt_gpa;
	uint64_t pdpt_gpa = pt_gpa + KVM_PAGE_BYTES;
	uint8_t *pdpt = ram + pdpt_gpa;
	const uint64_t flags = KVM_PTE_PRESENT | KVM_PTE_WRITABLE | KVM_PTE_USER;
	put_entry(pml4, 0, pdpt_gpa | flags);
	unsigned gib = (unsigned)(map_bytes / KVM_GIB);
	for (unsigned g = 0; g < gib; g++) {
		uint64_t pd_gpa = pdpt_gpa + KVM_PAGE_BYTES * (1 + g);
		put_entry(pdpt, g, pd_gpa | flags);
		for (unsigned i = 0; i < ENTRIES_PER_TABLE; i++) {
			uint64_t pa = (uint64_t)g * KVM_GIB + (uint64_t)i * KVM_LARGE_BYTES;
			put_entry(ram + pd_gpa, i, pa | flags | KVM_PTE_LARGE);
		}
	}
	return pt_gpa;
}

/* The table a present entry points to, or NULL when it lies outside ram. */
static const uint8_t *next_table(const uint8_t *ram, uint64_t ram_bytes, uint64_t entry)
{
	uint64_t gpa = entry & 0x000ffffffffff000ull;
	if (gpa > ram_bytes || ram_bytes - gpa < KVM_PAGE_BYTES)
		return NULL;
	return ram + gpa;
}

bool kvm_pt_translate(const uint8_t *ram, uint64_t ram_bytes, uint64_t cr3, uint64_t va, uint64_t *pa)
{
	const uint8_t *table = next_table(ram, ram_bytes, cr3);
	static const unsigned shifts[] = { 39, 30, 21, 12 };
	for (unsigned level = 0; table && level < 4; level++) {
		uint64_t e = get_entry(table, (unsigned)(va >> shifts[level]) & (ENTRIES_PER_TABLE - 1));
		if (!(e & KVM_PTE_PRESENT))
			return false;
		bool leaf = level == 3 || (level >= 1 && (e & KVM_PTE_LARGE));
		if (leaf) {
			uint64_t page_mask = (1ull << shifts[level]) - 1;
			*pa = (e & 0x000ffffffffff000ull & ~page_mask) | (va & page_mask);
			return true;
		}
		table = next_table(ram, ram_bytes, e);
	}
	return false;
}

uint16_t kvm_gdt_build(uint8_t *ram, uint64_t ram_bytes, uint64_t gdt_gpa)
{
	/* Descriptors: base 0, limit max, G=1; code: L=1 (64-bit), type execute/read; data: read/write. */
	static const uint64_t gdt[3] = {
		0,
		0x00af9b000000ffffull,   /* KVM_SEL_CODE64 */
		0x00cf93000000ffffull,   /* KVM_SEL_DATA */
	};
	if (gdt_gpa > ram_bytes || ram_bytes - gdt_gpa < sizeof(gdt))
		return 0;
	memcpy(ram + gdt_gpa, gdt, sizeof(gdt));
	return (uint16_t)(sizeof(gdt) - 1);
}
