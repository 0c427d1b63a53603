/*
 * AOS system-call entry (aos.h): SYSCALL lands here at CPL 0 on the user's
 * stack with interrupts off (SFMASK). Save the user's rip (rcx), rflags
 * (r11), rsp and arguments in a struct aos_uframe on the kernel stack, call
 * aos_syscall(frame), then SYSRET to whatever the frame says now (the
 * kernel rewrites it to migrate into another component).
 */
	.text
	.globl aos_syscall_entry
aos_syscall_entry:
	mov %rsp, aos_user_rsp(%rip)
	lea aos_kstack_top(%rip), %rsp
	sub $48, %rsp                  /* struct aos_uframe; rsp stays 16-byte aligned */
	mov %rcx, 0(%rsp)              /* rip */
	mov %r11, 8(%rsp)              /* rflags */
	mov aos_user_rsp(%rip), %rcx
	mov %rcx, 16(%rsp)             /* rsp */
	mov %rax, 24(%rsp)             /* rax: number in, result out */
	mov %rdi, 32(%rsp)
	mov %rsi, 40(%rsp)
	mov %rsp, %rdi
	call aos_syscall_handler
	mov 0(%rsp), %rcx
	mov 8(%rsp), %r11
	mov 24(%rsp), %rax
	mov 32(%rsp), %rdi
	mov 40(%rsp), %rsi
	mov 16(%rsp), %rsp
	sysretq

	.bss
	.align 8
aos_user_rsp:
	.skip 8
	.align 16
aos_kstack:
	.skip 16384
aos_kstack_top:
