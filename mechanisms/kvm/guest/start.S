/*
 * Guest entry and exception stubs. The VMM starts us in 64-bit mode with
 * paging on, RSP at KVM_STACK_TOP_GPA and .bss already zeroed.
 */
#include "kvm_abi.h"

	.section .header, "a"
	.quad KVM_IMAGE_MAGIC
	.long KVM_IMAGE_VERSION
	.long KVM_IMAGE_HEADER_BYTES
	.quad KVM_IMAGE_GPA            /* load_gpa */
	.quad _start                   /* entry_gpa */
	.quad __image_end              /* bss_end_gpa */

	.section .text.start, "ax"
	.globl _start
_start:
	mov $KVM_STACK_TOP_GPA, %rsp
	xor %rbp, %rbp
	call kvm_rt_start              /* never returns */
1:	hlt
	jmp 1b

/* One stub per exception vector: push a zero error code where the CPU pushes none. */
.macro stub vector, has_error
	.globl kvm_rt_stub_\vector
kvm_rt_stub_\vector:
	.if \has_error == 0
	push $0
	.endif
	push $\vector
	jmp exception_common
.endm

	.text
	stub 0, 0
	stub 1, 0
	stub 2, 0
	stub 3, 0
	stub 4, 0
	stub 5, 0
	stub 6, 0
	stub 7, 0
	stub 8, 1
	stub 9, 0
	stub 10, 1
	stub 11, 1
	stub 12, 1
	stub 13, 1
	stub 14, 1
	stub 15, 0
	stub 16, 0
	stub 17, 1
	stub 18, 0
	stub 19, 0
	stub 20, 0
	stub 21, 1

exception_common:
	mov %rsp, %rdi                 /* struct kvm_rt_frame * */
	and $-16, %rsp
	call kvm_rt_exception          /* reports to the host, never returns */
2:	hlt
	jmp 2b

	.section .rodata
	.globl kvm_rt_stubs
kvm_rt_stubs:
	.quad kvm_rt_stub_0, kvm_rt_stub_1, kvm_rt_stub_2, kvm_rt_stub_3
	.quad kvm_rt_stub_4, kvm_rt_stub_5, kvm_rt_stub_6, kvm_rt_stub_7
	.quad kvm_rt_stub_8, kvm_rt_stub_9, kvm_rt_stub_10, kvm_rt_stub_11
	.quad kvm_rt_stub_12, kvm_rt_stub_13, kvm_rt_stub_14, kvm_rt_stub_15
	.quad kvm_rt_stub_16, kvm_rt_stub_17, kvm_rt_stub_18, kvm_rt_stub_19
	.quad kvm_rt_stub_20, kvm_rt_stub_21
