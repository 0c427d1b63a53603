/*
 * Pure builders for the structures the VMM writes into guest memory before
 * the first entry: identity-mapping page tables (4-level, 2 MiB pages) and
 * the GDT for 64-bit mode. No KVM calls here, so they are unit-tested on
 * plain buffers (tests/test_pagetable.c).
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KVM_PTE_PRESENT  (1ull << 0)
#define KVM_PTE_WRITABLE (1ull << 1)
#define KVM_PTE_USER     (1ull << 2)   /* U/S: guest CPL 3 may use it (the runtime's user mode) */
#define KVM_PTE_LARGE    (1ull << 7)   /* PS: a 2 MiB page in a PD entry */
#define KVM_PAGE_BYTES   4096ull
#define KVM_LARGE_BYTES  (2ull << 20)
#define KVM_GIB          (1ull << 30)

/*
 * Identity-map [0, map_bytes) with 2 MiB pages, present, writable and
 * user-accessible (the guest runtime runs programs at CPL 3, rt.h): PML4 at pt_gpa, the PDPT in
 * the next page, then one PD per GiB. map_bytes must be a whole number of
 * GiB, at most 4 GiB, and the tables must fit inside `ram`. Returns the CR3
 * value (pt_gpa), or 0 with a reason in `why`.
 */
uint64_t kvm_pt_build(uint8_t *ram, uint64_t ram_bytes, uint64_t pt_gpa, uint64_t map_bytes,
		      char *why, size_t why_len);

/* Bytes of tables kvm_pt_build writes for map_bytes. */
uint64_t kvm_pt_bytes(uint64_t map_bytes);

/*
 * Walk the tables like the MMU does. Returns true and the physical address
 * when `va` is mapped, false when a level is not present or out of `ram`.
 */
bool kvm_pt_translate(const uint8_t *ram, uint64_t ram_bytes, uint64_t cr3, uint64_t va, uint64_t *pa);

/*
 * A GDT with a null descriptor, a 64-bit code segment (KVM_SEL_CODE64) and
 * a data segment (KVM_SEL_DATA). Returns the limit (bytes - 1), or 0 when
 * it does not fit.
 */
uint16_t kvm_gdt_build(uint8_t *ram, uint64_t ram_bytes, uint64_t gdt_gpa);
