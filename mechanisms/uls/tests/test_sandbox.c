/*
 * Smoke test of the sandbox's isolation (sandbox.c), for both toggles:
 * a read of the protected part outside an upcall faults (with the toggle's
 * si_code), the upcall runs on the sandbox stack and can read the part
 * once the extension has opened it, and it faults again afterwards.
 * The pkey half is skipped, with the reason, where the machine has no PKU;
 * exit 77 (meson's skip) when no toggle could be checked.
 */
#include <signal.h>
#include <stdio.h>

#include "../sandbox.h"

static int check(enum sandbox_toggle toggle, size_t pages)
{
	struct sandbox sb;
	char why[256];

	if (sandbox_create(&sb, toggle, pages, why, sizeof(why)) || sandbox_use_altstack(&sb, why, sizeof(why)) ||
	    sandbox_upcall_check(&sb, SIGUSR2, why, sizeof(why))) {
		fprintf(stderr, "FAIL %s, %zu pages: %s\n", sandbox_toggle_name(toggle), pages, why);
		sandbox_destroy(&sb);
		return 1;
	}
	int code;
	if (sandbox_open(&sb) != 0 || sandbox_read_faults(&sb, &code) || sandbox_close(&sb) != 0) {
		fprintf(stderr, "FAIL %s: not readable after an open outside an upcall\n", sandbox_toggle_name(toggle));
		sandbox_destroy(&sb);
		return 1;
	}
	bool closed = sandbox_read_faults(&sb, &code);
	sandbox_destroy(&sb);
	if (!closed) {
		fprintf(stderr, "FAIL %s: readable after close\n", sandbox_toggle_name(toggle));
		return 1;
	}
	printf("ok   %s, %zu pages: faults outside the upcall, readable inside once opened\n",
	       sandbox_toggle_name(toggle), pages);
	return 0;
}

int main(void)
{
	char why[256];
	int failed = check(SANDBOX_MPROTECT, 1) + check(SANDBOX_MPROTECT, 64);

	if (sandbox_pkeys_available(why, sizeof(why)) == 0)
		failed += check(SANDBOX_PKEY, 1) + check(SANDBOX_PKEY, 64);
	else
		printf("skip pkey: %s\n", why);
	return failed ? 1 : 0;
}
