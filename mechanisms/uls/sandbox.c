/* The ULS sandbox region, its protection toggles and its isolation check (sandbox.h). */
#include "sandbox.h"

#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

const char *sandbox_toggle_name(enum sandbox_toggle t)
{
	return t == SANDBOX_PKEY ? "pkey (WRPKRU per toggle)" : "mprotect (page tables + TLB invalidate)";
}

int sandbox_pkeys_available(char *why, size_t why_len)
{
	int key = pkey_alloc(0, 0);

	if (key < 0) {
		snprintf(why, why_len, "memory protection keys unavailable: pkey_alloc: %s%s", strerror(errno),
			 errno == ENOSPC || errno == EINVAL ? " (no PKU on this CPU or kernel)" : "");
		return -1;
	}
	if (pkey_free(key) != 0) {
		snprintf(why, why_len, "pkey_free: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int fail(char *why, size_t why_len, const char *what)
{
	snprintf(why, why_len, "%s: %s", what, strerror(errno));
	return -1;
}

static int protect_data(struct sandbox *sb, char *why, size_t why_len)
{
	size_t bytes = sb->data_pages * SANDBOX_PAGE_BYTES;

	/* Populate while open (mlockall keeps the pages resident afterwards). */
	if (mprotect(sb->data, bytes, PROT_READ | PROT_WRITE) != 0)
		return fail(why, why_len, "mprotect of the sandbox data");
	for (size_t i = 0; i < sb->data_pages; i++)
		memset(sb->data + i * SANDBOX_PAGE_BYTES, (int)(i & 0x7f), SANDBOX_PAGE_BYTES);
	if (sb->toggle == SANDBOX_MPROTECT)
		return mprotect(sb->data, bytes, PROT_NONE) == 0 ? 0 : fail(why, why_len, "mprotect(PROT_NONE)");

	/* Access-disabled for this thread from the start; threads created later inherit PKRU. */
	sb->pkey = pkey_alloc(0, PKEY_DISABLE_ACCESS);
	if (sb->pkey < 0)
		return fail(why, why_len, "pkey_alloc");
	if (pkey_mprotect(sb->data, bytes, PROT_READ | PROT_WRITE, sb->pkey) != 0)
		return fail(why, why_len, "pkey_mprotect");
	sb->pkru_closed = sandbox_rdpkru();
	sb->pkru_open = sb->pkru_closed & ~(3u << (2 * sb->pkey));
	if (sb->pkru_open == sb->pkru_closed) {
		snprintf(why, why_len, "PKRU 0x%08x does not disable pkey %d", sb->pkru_closed, sb->pkey);
		return -1;
	}
	return 0;
}

int sandbox_create(struct sandbox *sb, enum sandbox_toggle toggle, size_t data_pages, char *why, size_t why_len)
{
	memset(sb, 0, sizeof(*sb));
	sb->pkey = -1;
	if (sysconf(_SC_PAGESIZE) != SANDBOX_PAGE_BYTES) {
		snprintf(why, why_len, "page size %ld, expected %u", sysconf(_SC_PAGESIZE), SANDBOX_PAGE_BYTES);
		return -1;
	}
	sb->toggle = toggle;
	sb->data_pages = data_pages ? data_pages : 1;
	sb->stack_bytes = SANDBOX_STACK_BYTES;
	sb->len = sb->stack_bytes + sb->data_pages * SANDBOX_PAGE_BYTES;
	void *p = mmap(NULL, sb->len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return fail(why, why_len, "mmap of the sandbox");
	sb->base = p;
	sb->stack = sb->base;
	sb->data = sb->base + sb->stack_bytes;
	if (mprotect(sb->stack, sb->stack_bytes, PROT_READ | PROT_WRITE) != 0)
		return fail(why, why_len, "mprotect of the sandbox stack");
	memset(sb->stack, 0, sb->stack_bytes);
	return protect_data(sb, why, why_len);
}

void sandbox_destroy(struct sandbox *sb)
{
	if (sb->altstack_set && sigaltstack(&sb->old_altstack, NULL) == 0)
		sb->altstack_set = false;
	if (sb->base && !sb->altstack_set) {
		munmap(sb->base, sb->len);
		sb->base = NULL;
	}
	/* A freed key's PKRU bits no longer matter: pkey_alloc sets them anew. */
	if (sb->pkey >= 0 && !sb->base) {
		if (pkey_free(sb->pkey) == 0)
			sb->pkey = -1;
	}
}

int sandbox_use_altstack(struct sandbox *sb, char *why, size_t why_len)
{
	stack_t ss = { .ss_sp = sb->stack, .ss_size = sb->stack_bytes, .ss_flags = 0 };

	if (sigaltstack(&ss, &sb->old_altstack) != 0)
		return fail(why, why_len, "sigaltstack");
	sb->altstack_set = true;
	return 0;
}

/* The probe's state: one probe at a time per process (handlers nest, probes do not). */
static sigjmp_buf probe_env;
static volatile sig_atomic_t probe_code;

static void probe_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	probe_code = si->si_code;
	siglongjmp(probe_env, 1);
}

/* The read itself, apart: nothing of the caller's lives across the longjmp. */
static __attribute__((noinline)) bool faulting_read(const char *addr)
{
	if (sigsetjmp(probe_env, 1) == 0) {
		(void)*(volatile const char *)addr;
		return false;
	}
	return true;
}

bool sandbox_read_faults(const struct sandbox *sb, int *si_code)
{
	struct sigaction sa = { .sa_sigaction = probe_segv, .sa_flags = SA_SIGINFO | SA_NODEFER };
	struct sigaction old;
	int saved_errno = errno;
	uint32_t pkru = sb->toggle == SANDBOX_PKEY ? sandbox_rdpkru() : 0;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, &old) != 0) {
		*si_code = 0;
		return true;   /* cannot probe: report "not readable", the safe answer */
	}
	probe_code = 0;
	bool faulted = faulting_read(sb->data);
	/* siglongjmp restores the signal mask, not PKRU (the handler ran with the kernel's default) */
	if (sb->toggle == SANDBOX_PKEY)
		sandbox_wrpkru(pkru);
	/* restoring the action replaced above, with the same arguments: cannot fail */
	(void)sigaction(SIGSEGV, &old, NULL);
	*si_code = probe_code;
	errno = saved_errno;
	return faulted;
}

/* What the check's upcall saw, written by its handler. */
struct check_seen {
	const struct sandbox *sb;
	volatile sig_atomic_t entered, on_sandbox_stack, faulted_before_open, faulted_when_open, toggle_err;
};
static struct check_seen *volatile check_seen;

static void check_extension(int sig)
{
	struct check_seen *c = check_seen;
	char local;
	int code;

	(void)sig;
	c->entered = 1;
	c->on_sandbox_stack = &local >= c->sb->stack && &local < c->sb->stack + c->sb->stack_bytes;
	c->faulted_before_open = sandbox_read_faults(c->sb, &code);
	if (sandbox_open(c->sb) != 0) {
		c->toggle_err = errno;
		return;
	}
	c->faulted_when_open = sandbox_read_faults(c->sb, &code);
	if (sandbox_close(c->sb) != 0)
		c->toggle_err = errno;
}

static int expect_closed(const struct sandbox *sb, const char *when, char *why, size_t why_len)
{
	int code = 0, want = sb->toggle == SANDBOX_PKEY ? SEGV_PKUERR : SEGV_ACCERR;

	if (!sandbox_read_faults(sb, &code)) {
		snprintf(why, why_len, "a read of the sandbox %s did not fault", when);
		return -1;
	}
	if (code != want) {
		snprintf(why, why_len, "a read of the sandbox %s faulted with si_code %d, expected %d", when, code, want);
		return -1;
	}
	return 0;
}

int sandbox_upcall_check(struct sandbox *sb, int signo, char *why, size_t why_len)
{
	struct check_seen seen = { .sb = sb };
	struct sigaction sa = { .sa_handler = check_extension, .sa_flags = SA_ONSTACK };
	struct sigaction old;
	sigset_t unblock, old_mask;

	if (expect_closed(sb, "before the upcall", why, why_len))
		return -1;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&unblock);
	sigaddset(&unblock, signo);
	if (sigaction(signo, &sa, &old) != 0)
		return fail(why, why_len, "sigaction");
	check_seen = &seen;
	int rc = pthread_sigmask(SIG_UNBLOCK, &unblock, &old_mask);
	if (rc == 0) {
		rc = (int)syscall(SYS_tgkill, getpid(), gettid(), signo) == 0 ? 0 : errno;
		int err = pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
		if (!rc)
			rc = err;
	}
	if (sigaction(signo, &old, NULL) != 0 && !rc)
		rc = errno;
	check_seen = NULL;
	if (rc != 0) {
		snprintf(why, why_len, "raising the check upcall or restoring its signal state: %s", strerror(rc));
		return -1;
	}
	if (!seen.entered)
		snprintf(why, why_len, "the upcall did not reach the extension");
	else if (!seen.on_sandbox_stack)
		snprintf(why, why_len, "the extension did not run on the sandbox stack");
	else if (seen.toggle_err)
		snprintf(why, why_len, "the extension could not toggle the sandbox: %s", strerror(seen.toggle_err));
	else if (!seen.faulted_before_open)
		snprintf(why, why_len, "the sandbox was readable in the upcall before the extension opened it");
	else if (seen.faulted_when_open)
		snprintf(why, why_len, "the sandbox was not readable after the extension opened it");
	else
		return expect_closed(sb, "after the upcall", why, why_len);
	return -1;
}
