/*
 * The ULS sandbox on stock Linux: one mapping shared by the process and its
 * extensions, with two parts.
 *
 *   public part     the upcall stack (sigaltstack), always readable and
 *                   writable: the kernel must be able to push the signal
 *                   frame there, and unlike ULS it cannot open a protected
 *                   region on our behalf before the upcall.
 *   protected part  the extension's data and working set, normally
 *                   inaccessible; the extension opens it on entry (the
 *                   paper's OpenSandbox()) and closes it before returning.
 *
 * The protection toggle is either mprotect() (a page-table change and a TLB
 * invalidation of those pages) or a memory protection key: pkey_mprotect()
 * once at creation, then one WRPKRU per toggle (no page-table change, no TLB
 * flush). On signal delivery the kernel gives the handler its default PKRU
 * (every key but 0 disabled), and sigreturn restores the interrupted PKRU, so
 * with pkeys the sandbox is closed again even if the extension forgot.
 */
#pragma once
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

#define SANDBOX_PAGE_BYTES 4096u
#define SANDBOX_STACK_BYTES (64u * 1024u)

enum sandbox_toggle { SANDBOX_MPROTECT, SANDBOX_PKEY };

struct sandbox {
	char *base;                 /* the whole mapping */
	size_t len;
	char *stack;                /* public part: upcall stack */
	size_t stack_bytes;
	char *data;                 /* protected part */
	size_t data_pages;
	enum sandbox_toggle toggle;
	int pkey;                   /* -1 unless SANDBOX_PKEY */
	uint32_t pkru_open;         /* PKRU with the sandbox key enabled */
	uint32_t pkru_closed;       /* PKRU with the sandbox key access-disabled */
	bool altstack_set;
	stack_t old_altstack;
};

static inline uint32_t sandbox_rdpkru(void)
{
	uint32_t eax, edx;

	__asm__ volatile(".byte 0x0f, 0x01, 0xee" : "=a"(eax), "=d"(edx) : "c"(0));
	return eax;
}

static inline void sandbox_wrpkru(uint32_t pkru)
{
	__asm__ volatile(".byte 0x0f, 0x01, 0xef" : : "a"(pkru), "c"(0), "d"(0) : "memory");
}

/* Open the protected part. 0, or -1 with errno (mprotect only). Async-signal-safe. */
static inline int sandbox_open(const struct sandbox *sb)
{
	if (sb->toggle == SANDBOX_PKEY) {
		sandbox_wrpkru(sb->pkru_open);
		return 0;
	}
	return mprotect(sb->data, sb->data_pages * SANDBOX_PAGE_BYTES, PROT_READ | PROT_WRITE);
}

static inline int sandbox_close(const struct sandbox *sb)
{
	if (sb->toggle == SANDBOX_PKEY) {
		sandbox_wrpkru(sb->pkru_closed);
		return 0;
	}
	return mprotect(sb->data, sb->data_pages * SANDBOX_PAGE_BYTES, PROT_NONE);
}

/* Read one cache line in each of the first `pages` pages (the sandbox must be open). */
static inline uint64_t sandbox_touch(const struct sandbox *sb, size_t pages)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < pages; i++)
		sum += *(volatile const uint64_t *)(sb->data + i * SANDBOX_PAGE_BYTES);
	return sum;
}

/* 0 when this CPU and kernel give us a protection key, else -1 with the reason. */
int sandbox_pkeys_available(char *why, size_t why_len);

/* Map and prefault a sandbox with `data_pages` (>= 1) protected pages, closed. */
int sandbox_create(struct sandbox *sb, enum sandbox_toggle toggle, size_t data_pages,
		   char *why, size_t why_len);
/* Safe on a zeroed or half-created sandbox, and twice. */
void sandbox_destroy(struct sandbox *sb);

/* Make the public part the calling thread's signal stack (sigaltstack). */
int sandbox_use_altstack(struct sandbox *sb, char *why, size_t why_len);

/*
 * Does a read of the protected part fault now? Returns true with the
 * fault's si_code (SEGV_ACCERR, SEGV_PKUERR, ...), false when the read went
 * through. Installs a SIGSEGV handler for the probe only. Async-signal-safe.
 */
bool sandbox_read_faults(const struct sandbox *sb, int *si_code);

/*
 * The isolation check: the protected part faults before an upcall; the
 * upcall (signal `signo`, raised here) runs on the sandbox stack, still
 * faults before it opens the sandbox and reads it once open; after the
 * upcall a read faults again with the toggle's si_code. 0, or -1 with why.
 */
int sandbox_upcall_check(struct sandbox *sb, int signo, char *why, size_t why_len);

const char *sandbox_toggle_name(enum sandbox_toggle t);
