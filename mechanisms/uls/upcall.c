/*
 * Experiments 1-3: the upcall into a sandboxed extension and the cost of
 * opening the sandbox.
 *
 * The upcall is SIGUSR2 raised with tgkill() at the measuring thread and
 * delivered onto the sandbox's public stack (SA_ONSTACK); the handler is
 * the extension's entry point.
 *
 *   upcall            send -> the extension's first instruction (rdtscp)
 *   upcall-mprotect   send -> the extension has opened the sandbox,
 *   upcall-pkey          re-read working_set_pages pages and closed it
 *   tlb-mprotect      open, re-read the pages, close; no upcall
 *   tlb-pkey
 *
 * With mprotect the close changes the page tables and invalidates the
 * pages' TLB entries (above 33 pages Linux flushes the whole TLB), so the
 * next open pays the page walks again: the paper's "TLB flush and reload".
 * With pkeys the translation stays cached and only PKRU changes.
 *
 * Setup runs sandbox_upcall_check(): the sandbox faults outside an upcall,
 * is readable inside once opened, and faults again afterwards.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox.h"
#include "uls.h"

#define UPCALL_SIGNAL SIGUSR2

/* What a variant's setup builds: the sandbox's toggle, and who toggles it. */
struct upcall_kind {
	enum sandbox_toggle toggle;
	bool upcall;                   /* install the extension (else: toggles only, no upcall) */
	bool toggle_in_extension;      /* the extension opens the sandbox and re-touches its pages */
};

static const struct upcall_kind kind_upcall = { SANDBOX_MPROTECT, true, false };
static const struct upcall_kind kind_upcall_mprotect = { SANDBOX_MPROTECT, true, true };
static const struct upcall_kind kind_upcall_pkey = { SANDBOX_PKEY, true, true };
static const struct upcall_kind kind_tlb_mprotect = { SANDBOX_MPROTECT, false, false };
static const struct upcall_kind kind_tlb_pkey = { SANDBOX_PKEY, false, false };

struct upcall_state {
	struct sandbox sb;
	size_t ws_pages;
	bool toggle;                   /* the extension opens the sandbox */
	bool handler_set, mask_set;
	struct sigaction old_act;
	sigset_t old_mask;
	pid_t pid, tid;
	/* written by the extension */
	volatile uint64_t entry_cycles, done_cycles, sink;
	volatile uint32_t upcalls;
	volatile int toggle_errno;
};

/* The extension (a signal handler) finds the case's state here: set in setup, cleared in teardown. */
static struct upcall_state *volatile g_upcall;

/* Open, reload the working set, close: the part after the upcall itself. */
static inline int toggle_cycle(struct upcall_state *u)
{
	if (sandbox_open(&u->sb) != 0)
		return errno;
	u->sink += sandbox_touch(&u->sb, u->ws_pages);
	return sandbox_close(&u->sb) != 0 ? errno : 0;
}

static void extension_entry(int sig)
{
	uint64_t t = tsc_end();   /* first: the upcall ends here */
	struct upcall_state *u = g_upcall;
	int saved_errno = errno;

	(void)sig;
	u->entry_cycles = t;
	if (u->toggle) {
		int err = toggle_cycle(u);
		if (err)
			u->toggle_errno = err;
	}
	u->done_cycles = tsc_end();
	u->upcalls++;
	errno = saved_errno;
}

static int install_extension(struct mech_ctx *ctx, struct upcall_state *u)
{
	struct sigaction sa = { .sa_handler = extension_entry, .sa_flags = SA_ONSTACK };
	sigset_t set;

	sigemptyset(&sa.sa_mask);
	if (sigaction(UPCALL_SIGNAL, &sa, &u->old_act) != 0)
		return mech_why_errno(ctx, BENCH_FAIL, "sigaction");
	u->handler_set = true;
	sigemptyset(&set);
	sigaddset(&set, UPCALL_SIGNAL);
	int err = pthread_sigmask(SIG_UNBLOCK, &set, &u->old_mask);
	if (err)
		return mech_why(ctx, BENCH_FAIL, "pthread_sigmask: %s", strerror(err));
	u->mask_set = true;
	return BENCH_OK;
}

void uls_upcall_teardown(struct mech_ctx *ctx)
{
	struct upcall_state *u = ctx->priv;

	if (!u)
		return;
	if (u->mask_set && pthread_sigmask(SIG_SETMASK, &u->old_mask, NULL) == 0)
		u->mask_set = false;
	if (u->handler_set && sigaction(UPCALL_SIGNAL, &u->old_act, NULL) == 0)
		u->handler_set = false;
	g_upcall = NULL;
	sandbox_destroy(&u->sb);
	free(u);
	ctx->priv = NULL;
}

int uls_pkey_probe(struct mech_ctx *ctx)
{
	char why[200];

	if (sandbox_pkeys_available(why, sizeof(why)) != 0)
		return mech_why(ctx, BENCH_SKIP, "%s", why);
	return BENCH_OK;
}

static int upcall_setup(struct mech_ctx *ctx, const struct upcall_kind *kind)
{
	const struct uls_cfg *cfg = ctx->cfg;
	struct upcall_state *u = calloc(1, sizeof(*u));

	if (!u)
		return mech_why(ctx, BENCH_FAIL, "out of memory");
	ctx->priv = u;
	u->ws_pages = (size_t)cfg->working_set_pages;
	u->toggle = kind->toggle_in_extension;
	u->pid = getpid();
	u->tid = gettid();
	if (sandbox_create(&u->sb, kind->toggle, u->ws_pages, ctx->why, sizeof(ctx->why)) ||
	    sandbox_use_altstack(&u->sb, ctx->why, sizeof(ctx->why)))
		return BENCH_FAIL;
	report_kv(ctx->report, "sandbox", "public stack + protected pages; toggle %s", sandbox_toggle_name(u->sb.toggle));
	report_int(ctx->report, "sandbox_stack_bytes", (int64_t)u->sb.stack_bytes, "bytes");
	report_int(ctx->report, "sandbox_protected_pages", (int64_t)u->sb.data_pages, "pages");
	if (sandbox_upcall_check(&u->sb, UPCALL_SIGNAL, ctx->why, sizeof(ctx->why)))
		return BENCH_FAIL;
	report_kv(ctx->report, "isolation_check", "ok: faults before and after an upcall, readable inside once opened");
	g_upcall = u;
	if (kind->upcall)
		return install_extension(ctx, u);
	return BENCH_OK;
}

int uls_upcall_setup(struct mech_ctx *ctx)
{
	return upcall_setup(ctx, &kind_upcall);
}

int uls_upcall_mprotect_setup(struct mech_ctx *ctx)
{
	return upcall_setup(ctx, &kind_upcall_mprotect);
}

int uls_upcall_pkey_setup(struct mech_ctx *ctx)
{
	return upcall_setup(ctx, &kind_upcall_pkey);
}

int uls_tlb_mprotect_setup(struct mech_ctx *ctx)
{
	return upcall_setup(ctx, &kind_tlb_mprotect);
}

int uls_tlb_pkey_setup(struct mech_ctx *ctx)
{
	return upcall_setup(ctx, &kind_tlb_pkey);
}

/* upcall, upcall-mprotect, upcall-pkey: send -> the extension's entry, or its close of the sandbox. */
int uls_upcall_measure(struct mech_ctx *ctx, struct samples *s)
{
	struct upcall_state *u = ctx->priv;

	while (!samples_full(s)) {
		uint32_t before = u->upcalls;
		uint64_t t0 = tsc_start();
		if (syscall(SYS_tgkill, u->pid, u->tid, UPCALL_SIGNAL) != 0)
			return mech_why_errno(ctx, BENCH_FAIL, "tgkill");
		if (u->upcalls == before)
			return mech_why(ctx, BENCH_FAIL, "tgkill() returned before the extension ran");
		if (u->toggle_errno)
			return mech_why(ctx, BENCH_FAIL, "the extension's toggle failed: %s", strerror(u->toggle_errno));
		samples_add(s, (u->toggle ? u->done_cycles : u->entry_cycles) - t0);
	}
	return BENCH_OK;
}

/* tlb-mprotect, tlb-pkey: open, re-touch, close, with no upcall around it. */
int uls_tlb_measure(struct mech_ctx *ctx, struct samples *s)
{
	struct upcall_state *u = ctx->priv;

	while (!samples_full(s)) {
		uint64_t t0 = tsc_start();
		int err = toggle_cycle(u);
		uint64_t t1 = tsc_end();
		if (err)
			return mech_why(ctx, BENCH_FAIL, "sandbox toggle: %s", strerror(err));
		samples_add(s, t1 - t0);
	}
	return BENCH_OK;
}
