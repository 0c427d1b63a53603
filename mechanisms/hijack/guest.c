/* The guest's working set (experiment 2): data pages, or a chain of code pages. */
#include "guest.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

/* SysV: nr in rdi, a0..a2 in rsi, rdx, rcx; the kernel wants rax, rdi, rsi, rdx, r10, r8, r9. */
__asm__(".pushsection .text.hj_guest_gate,\"ax\",@progbits\n"
	".globl hj_guest_gate_begin\n.hidden hj_guest_gate_begin\n"
	".globl hj_guest_gate_end\n.hidden hj_guest_gate_end\n"
	".globl hj_guest_syscall\n.hidden hj_guest_syscall\n.type hj_guest_syscall,@function\n"
	"hj_guest_gate_begin:\n"
	"hj_guest_syscall:\n"
	"\tmovq %rdi, %rax\n"
	"\tmovq %rsi, %rdi\n"
	"\tmovq %rdx, %rsi\n"
	"\tmovq %rcx, %rdx\n"
	"\txorl %r10d, %r10d\n"
	"\txorl %r8d, %r8d\n"
	"\tmovabsq $0x48696a61636b2121, %r9\n"   /* HJ_COOKIE */
	"\tsyscall\n"
	"\tret\n"
	"hj_guest_gate_end:\n"
	".popsection\n");

#define PAGE_BYTES 4096u
#define LINE_BYTES 64u

/* Where page i's byte or code sits: a different cache line per page, so pages do not alias. */
static size_t slot_offset(size_t i)
{
	return (i * LINE_BYTES) % PAGE_BYTES;
}

/* Page i jumps to page i + 1 (jmp rel32); the last page returns. */
static void write_chain(unsigned char *base, size_t pages)
{
	for (size_t i = 0; i < pages; i++) {
		unsigned char *code = base + i * PAGE_BYTES + slot_offset(i);
		if (i + 1 == pages) {
			code[0] = 0xc3;   /* ret */
			continue;
		}
		unsigned char *next = base + (i + 1) * PAGE_BYTES + slot_offset(i + 1);
		int32_t rel = (int32_t)(next - (code + 5));
		code[0] = 0xe9;   /* jmp rel32 */
		memcpy(code + 1, &rel, sizeof(rel));
	}
}

int hj_ws_init(struct hj_working_set *ws, int kind, size_t pages)
{
	memset(ws, 0, sizeof(*ws));
	ws->kind = kind;
	ws->pages = pages;
	if (pages == 0)
		return 0;
	ws->len = pages * PAGE_BYTES;
	void *p = mmap(NULL, ws->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	ws->mem = p;
	memset(ws->mem, 0x90, ws->len);   /* nop: also faults every page in */
	if (kind == HJ_WS_INSTRUCTION) {
		write_chain(ws->mem, pages);
		if (mprotect(ws->mem, ws->len, PROT_READ | PROT_EXEC) != 0) {
			int err = errno;
			hj_ws_free(ws);
			errno = err;
			return -1;
		}
		ws->entry = (void (*)(void))(void *)(ws->mem + slot_offset(0));
	}
	return 0;
}

void hj_ws_free(struct hj_working_set *ws)
{
	if (ws->mem)
		munmap(ws->mem, ws->len);
	ws->mem = NULL;
	ws->entry = NULL;
}
