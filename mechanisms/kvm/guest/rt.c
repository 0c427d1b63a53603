/* Guest runtime: IDT, exception reporting, logging, x2APIC, libc bits. */
#include "rt.h"

#define IDT_VECTORS 22   /* the architectural exceptions with stubs in start.S */

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t zero;
} __attribute__((packed));

struct idt_pointer {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

/* What exception_common hands over: our two pushes, then the CPU's frame. */
struct kvm_rt_frame {
	uint64_t vector;
	uint64_t error_code;
	uint64_t rip;
	uint64_t cs;
	uint64_t rflags;
	uint64_t rsp;
	uint64_t ss;
};

extern const uint64_t kvm_rt_stubs[IDT_VECTORS];
static struct idt_gate idt[256] __attribute__((aligned(16)));   /* gates past the stubs: rt_idt_set */

void kvm_rt_start(void);
void kvm_rt_exception(const struct kvm_rt_frame *frame);

void rt_idt_set(uint8_t vector, uintptr_t handler)
{
	idt[vector] = (struct idt_gate){
		.offset_lo = (uint16_t)handler, .selector = KVM_SEL_CODE64, .ist = 0,
		.type_attr = 0x8e,   /* present, DPL 0, 64-bit interrupt gate */
		.offset_mid = (uint16_t)(handler >> 16), .offset_hi = (uint32_t)(handler >> 32),
	};
}

static void idt_load(void)
{
	for (unsigned v = 0; v < IDT_VECTORS; v++)
		rt_idt_set((uint8_t)v, (uintptr_t)kvm_rt_stubs[v]);
	struct idt_pointer p = { .limit = sizeof(idt) - 1, .base = (uint64_t)(uintptr_t)idt };
	__asm__ volatile("lidt %0" : : "m"(p));
}

void rt_idt_clear(void)
{
	struct idt_pointer p = { .limit = 0, .base = 0 };
	__asm__ volatile("lidt %0" : : "m"(p));
}

/* ---- user mode: GDT with user segments and a TSS, then iretq to CPL 3 ---- */

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct gdt_pointer {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static struct tss64 tss __attribute__((aligned(16)));
static uint64_t gdt[7] __attribute__((aligned(16)));
static void (*user_fn)(const struct kvm_boot_info *);
int rt_user_mode;

static void gdt_load_with_tss(void)
{
	uint64_t base = (uint64_t)(uintptr_t)&tss, limit = sizeof(tss) - 1;
	tss.rsp[0] = KVM_STACK_TOP_GPA;
	tss.iomap_base = sizeof(tss);   /* no I/O bitmap: IOPL alone decides */
	gdt[0] = 0;
	gdt[1] = 0x00af9b000000ffffull;   /* KVM_SEL_CODE64, as the VMM's GDT */
	gdt[2] = 0x00cf93000000ffffull;   /* KVM_SEL_DATA */
	gdt[3] = 0x00cff3000000ffffull;   /* KVM_SEL_USER_DATA: DPL 3 read/write */
	gdt[4] = 0x00affb000000ffffull;   /* KVM_SEL_USER_CODE64: DPL 3, L=1 */
	gdt[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) | (((limit >> 16) & 0xf) << 48) |
		 (((base >> 24) & 0xff) << 56);   /* KVM_SEL_TSS: present, available 64-bit TSS */
	gdt[6] = base >> 32;
	struct gdt_pointer p = { .limit = sizeof(gdt) - 1, .base = (uint64_t)(uintptr_t)gdt };
	__asm__ volatile("lgdt %0" : : "m"(p));
	__asm__ volatile("ltr %w0" : : "r"((uint16_t)KVM_SEL_TSS));
}

static void user_start(const struct kvm_boot_info *boot)
{
	user_fn(boot);
	rt_stop(0);
}

void rt_enter_user(void (*fn)(const struct kvm_boot_info *), const struct kvm_boot_info *boot)
{
	gdt_load_with_tss();
	user_fn = fn;
	rt_user_mode = 1;
	/* iretq frame: ss, rsp, rflags (interrupts off), cs, rip; rsp as if user_start was called */
	__asm__ volatile("pushq %0\n\tpushq %1\n\tpushq %2\n\tpushq %3\n\tpushq %4\n\tiretq"
			 : : "i"((uint64_t)KVM_SEL_USER_DATA), "r"((uint64_t)KVM_USER_STACK_TOP_GPA - 8),
			   "i"((uint64_t)0x2), "i"((uint64_t)KVM_SEL_USER_CODE64), "r"((uint64_t)(uintptr_t)user_start),
			   "D"(boot)
			 : "memory");
	__builtin_unreachable();
}

void kvm_rt_start(void)
{
	idt_load();
	guest_main(rt_boot_info());
	rt_stop(0);
}

void kvm_rt_exception(const struct kvm_rt_frame *frame)
{
	struct kvm_mailbox *mb = rt_mailbox();
	uint64_t cr2;
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	mb->fault.vector = frame->vector;
	mb->fault.error_code = frame->error_code;
	mb->fault.rip = frame->rip;
	mb->fault.cr2 = cr2;
	for (;;)
		rt_hypercall(KVM_HC_FAULT, (uint32_t)frame->vector);   /* the host never resumes us */
}

void rt_stop(uint32_t code)
{
	for (;;)
		rt_hypercall(KVM_HC_STOP, code);
}

static size_t copy_text(char *dst, size_t at, size_t cap, const char *src)
{
	while (*src && at + 1 < cap)
		dst[at++] = *src++;
	dst[at] = '\0';
	return at;
}

void rt_log(const char *text)
{
	struct kvm_mailbox *mb = rt_mailbox();
	copy_text(mb->text, 0, KVM_MAILBOX_TEXT, text);
	rt_hypercall(KVM_HC_LOG, 0);
}

void rt_log_hex(const char *text, uint64_t value)
{
	struct kvm_mailbox *mb = rt_mailbox();
	size_t at = copy_text(mb->text, 0, KVM_MAILBOX_TEXT, text);
	char hex[20] = " 0x";
	for (int i = 0; i < 16; i++)
		hex[3 + i] = "0123456789abcdef"[(value >> (60 - 4 * i)) & 0xf];
	hex[19] = '\0';
	copy_text(mb->text, at, KVM_MAILBOX_TEXT, hex);
	rt_hypercall(KVM_HC_LOG, 0);
}

#define MSR_APIC_BASE 0x1b
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_ENABLE (1ull << 11)
#define MSR_X2APIC_BASE 0x800

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

int rt_x2apic_supported(void)
{
	uint32_t a = 1, b, c = 0, d;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return (c >> 21) & 1;
}

void rt_x2apic_enable(void)
{
	/* xAPIC first where it is off: going from disabled straight to x2APIC is an invalid transition. */
	uint64_t base = rdmsr(MSR_APIC_BASE);
	if (!(base & APIC_BASE_ENABLE))
		wrmsr(MSR_APIC_BASE, base |= APIC_BASE_ENABLE);
	wrmsr(MSR_APIC_BASE, base | APIC_BASE_EXTD);
}

uint64_t rt_x2apic_read(uint32_t reg)
{
	return rdmsr(MSR_X2APIC_BASE + reg);
}

void rt_x2apic_write(uint32_t reg, uint64_t value)
{
	wrmsr(MSR_X2APIC_BASE + reg, value);
}

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	while (n--)
		*d++ = *s++;
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}
