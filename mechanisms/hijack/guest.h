/*
 * The guest side: an interposed system call (one `syscall` instruction,
 * HJ_COOKIE in argument 5), and the working set the guest touches after
 * each call (experiment 2): N data pages read, or N code pages executed.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "executive.h"

/*
 * The guest's interposed call: nr(a0, a1, a2) with HJ_COOKIE in argument 5,
 * issued from the one `syscall` instruction in [hj_guest_gate_begin,
 * hj_guest_gate_end) (guest.c). The seccomp filters match that address as
 * well as the cookie, so a call an executive makes with a stale cookie left
 * in r9 is never caught.
 */
long hj_guest_syscall(long nr, long a0, long a1, long a2);
extern const char hj_guest_gate_begin[], hj_guest_gate_end[];

static inline long hj_guest_call(long nr, long a0, long a1, long a2)
{
	return hj_guest_syscall(nr, a0, a1, a2);
}

enum hj_ws_kind { HJ_WS_DATA, HJ_WS_INSTRUCTION };

struct hj_working_set {
	int kind;               /* enum hj_ws_kind */
	size_t pages;
	size_t len;             /* bytes mapped */
	unsigned char *mem;     /* data pages, or the code chain */
	void (*entry)(void);    /* instruction pages: the first link of the chain */
};

/* Map and prefault (and for code, write the chain). 0, or -1 with errno. */
int hj_ws_init(struct hj_working_set *ws, int kind, size_t pages);
void hj_ws_free(struct hj_working_set *ws);

/* Touch every page once: one load per data page, one jump per code page. */
static inline void hj_ws_touch(const struct hj_working_set *ws)
{
	if (ws->pages == 0)
		return;
	if (ws->kind == HJ_WS_INSTRUCTION) {
		ws->entry();
		return;
	}
	const volatile unsigned char *p = ws->mem;
	for (size_t i = 0; i < ws->pages; i++)
		(void)p[i * 4096 + (i * 64) % 4096];
}
