/*
 * The contract between the mini-VMM (host) and the guest runtime: where
 * things live in guest-physical memory and how the guest calls the host.
 * Included by host C code and by the freestanding guest, so it holds only
 * constants and plain structs (stdint.h is available freestanding).
 *
 * Guest-physical layout (identity-mapped by the VMM's page tables, 0-4 GiB
 * in 2 MiB pages; only the RAM slot and mapped channels are backed):
 *
 *   0x001000  GDT                       written by the VMM
 *   0x002000  struct kvm_mailbox        hypercall arguments and results
 *   0x003000  struct kvm_boot_info      what the guest should do
 *   0x010000  page tables (PML4, PDPT, 4 PDs)
 *   0x100000  the image (header first), then its .bss
 *   0x3f0000  top of the user-mode stack (CPL 3, rt_enter_user; 64 KiB)
 *   0x400000  top of the boot stack (grows down), RSP0 for exceptions from CPL 3
 *   0x800000  free RAM for guest programs, up to ram_bytes
 *   0x80000000 - 0xefffffff  window for extra memory slots (vLib channels)
 *   0xf0000000 - 0xf003ffff  CPL 3 hypercall window (MMIO, never backed)
 */
#pragma once
#ifndef __ASSEMBLER__
#include <stdint.h>
#endif

#define KVM_GDT_GPA         0x1000ull
#define KVM_MAILBOX_GPA     0x2000ull
#define KVM_BOOT_INFO_GPA   0x3000ull
#define KVM_PT_GPA          0x10000ull
#define KVM_PT_PAGES        6ull            /* PML4 + PDPT + 4 PDs */
#define KVM_IMAGE_GPA       0x100000ull
#define KVM_STACK_TOP_GPA   0x400000ull
#define KVM_USER_STACK_TOP_GPA 0x3f0000ull
#define KVM_IMAGE_LIMIT_GPA 0x3e0000ull     /* image and .bss end below the user stack */
#define KVM_FREE_RAM_GPA    0x800000ull
#define KVM_MAPPED_BYTES    0x100000000ull  /* the page tables map 0 - 4 GiB */
#define KVM_SLOT_WINDOW_GPA 0x80000000ull

/* GDT selectors the VMM installs. */
#define KVM_SEL_CODE64 0x08
#define KVM_SEL_DATA   0x10
/* ... and those the runtime adds when it enters user mode (its own GDT, rt.c). */
#define KVM_SEL_USER_DATA   0x1b   /* 0x18 | RPL 3 */
#define KVM_SEL_USER_CODE64 0x23   /* 0x20 | RPL 3 */
#define KVM_SEL_TSS         0x28

/* The image starts with this header (see guest/start.S). */
#define KVM_IMAGE_MAGIC   0x314d564b42504147   /* "GAPBKVM1" little-endian */
#define KVM_IMAGE_VERSION 1
#define KVM_IMAGE_HEADER_BYTES 40
#ifndef __ASSEMBLER__
struct kvm_image_header {
	uint64_t magic;
	uint32_t version;
	uint32_t header_bytes;
	uint64_t load_gpa;      /* where the image must be loaded */
	uint64_t entry_gpa;     /* where execution starts */
	uint64_t bss_end_gpa;   /* end of the image's memory (after .bss) */
};

#endif /* !__ASSEMBLER__ */

/*
 * Hypercalls are port I/O exits: `out %eax, %dx` at CPL 0. At CPL 3 (the
 * runtime's user mode, rt_enter_user) the same hypercall is a 32-bit MMIO
 * write of the value to KVM_HC_MMIO_GPA + 4 * port, an unbacked window the
 * run loop decodes exactly like the OUT (some KVMs, e.g. PVM, refuse guest
 * port I/O at CPL 3 whatever IOPL says). Arguments go through the
 * mailbox (written before the OUT), results come back in it. Ports below
 * KVM_HC_USER_BASE belong to the runtime; programs add their own above it.
 */
#define KVM_HC_LOG       0x500   /* mailbox.text holds a NUL-terminated line */
#define KVM_HC_STOP      0x501   /* eax = exit code; the guest is done */
#define KVM_HC_FAULT     0x502   /* mailbox.fault describes an exception; the guest stops */
#define KVM_HC_STAMP     0x503   /* timestamps only: the host's run loop returns to its caller */
#define KVM_HC_USER_BASE 0x510
#define KVM_HC_MMIO_GPA  0xf0000000ull   /* + 4 * port: the CPL 3 hypercall window */
#define KVM_HC_MMIO_BYTES 0x40000ull

#ifndef __ASSEMBLER__

struct kvm_fault_info {
	uint64_t vector;
	uint64_t error_code;
	uint64_t rip;
	uint64_t cr2;
};

#define KVM_MAILBOX_TEXT 512
struct kvm_mailbox {
	uint64_t arg[8];                 /* guest -> host */
	uint64_t ret[8];                 /* host -> guest */
	uint64_t tsc_before_exit;        /* guest rdtsc right before the latest OUT */
	uint64_t tsc_after_entry;        /* guest rdtsc right after the previous OUT returned */
	struct kvm_fault_info fault;
	char text[KVM_MAILBOX_TEXT];
};

#define KVM_BOOT_MAGIC 0x746f6f42u   /* "Boot" */
struct kvm_boot_info {
	uint32_t magic;
	uint32_t program;                /* chosen by the host; meaning is per image */
	uint64_t ram_bytes;
	uint64_t tsc_khz;
	uint64_t arg[8];
};
#endif /* !__ASSEMBLER__ */
