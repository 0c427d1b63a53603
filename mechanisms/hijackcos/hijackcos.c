/*
 * hijackcos: Hijack^COS (seed 002, Parmer et al.): a second OS (COMPOSITE,
 * the "AOS") beside Linux, its invocation path, the TRANSLATOR between a
 * Linux process and the AOS, and I/O response time.
 *
 * The realization on stock Linux (issue 11's mapping):
 *   AOS                 a guest of the KVM substrate (mechanisms/kvm/): a small
 *                       kernel of the guest runtime with at least two user-level
 *                       components in separate address spaces, on its own vCPU
 *   Linux               the host, unmodified: no Hijack module, no /dev/translator
 *   TRANSLATOR          a wait-free single-producer/single-consumer ring in memory
 *                       shared with the guest; process->AOS by an interrupt into
 *                       the guest (irqfd), AOS->process by a doorbell (ioeventfd
 *                       or a hypercall) that wakes a process blocked on an eventfd
 *   cosnet              the VMM's I/O thread moves packets from a TUN device into
 *                       a ring shared with the AOS and raises an interrupt
 *   NIC interrupt       a packet from a sender process in another network
 *                       namespace over a veth pair, its receive processing
 *                       steered (RPS) onto the measuring CPU: the inter-processor
 *                       interrupt that raises it there stands for the NIC's
 *                       interrupt on the paper's machine (response.c)
 *   rdtsc spinner       the same: a medium-priority SCHED_FIFO thread storing the
 *                       TSC in a tight loop on the measuring CPU
 *
 * The paper's rows and where each stands:
 *   Table I  Pipe RPC 1.68 us          pipe-rpc thread-rtt (hijackcos.table1.pipe_rpc)
 *   Table II Pipe 0.90 us              pipe-rpc thread-oneway (hijackcos.table2.pipe_oneway)
 *   Table III Linux socket 10.30 us    here: udp-response (hijackcos.table3.linux_udp)
 *   Table III Linux TUN 10.94 us       here: tun-response (hijackcos.table3.linux_tun)
 *   in the AOS, a KVM guest (aos_*.c, guest/cos.c; a skip without /dev/kvm):
 *   Table I  invocation 0.24 us        aos-invoke (hijackcos.table1.invocation)
 *                                      stand-in: a KVM guest kernel's components with own page
 *                                      tables (x86-64 SYSCALL/SYSRET, CR3), for COMPOSITE beside Linux
 *            without the host page-    aos-invoke-shared: B on A's tables, no CR3 write at all; not
 *            table update 0.23 us      Hijack's 26-cycle host update (nothing here needs one): uncited
 *            2 system calls 0.08 us    aos-hw-syscalls (hijackcos.table1.hw_2_syscalls): two
 *                                      SYSCALL/SYSRET round trips, for sysenter/sysexit
 *            2 page-table switches     aos-hw-cr3 (hijackcos.table1.hw_2_pgtbl_switches): two CR3
 *            0.08 us                   writes in the guest kernel (no PCID: full TLB flushes)
 *            hardware share 69.85%     aos-invoke's facts hw_share (medians) and hw_share_of_means,
 *                                      from the same run, beside hw_share_paper
 *   Table II translator process->cos   translator-to-aos (hijackcos.table2.translator_process_to_cos):
 *            0.73 us                   a shared ring and an irqfd interrupt waking a KVM guest's
 *                                      component, for /dev/translator into COMPOSITE
 *            cos->process 0.51 us      translator-from-aos (hijackcos.table2.translator_cos_to_process):
 *                                      a shared ring and an ioeventfd doorbell waking a process in
 *                                      poll(), for COMPOSITE to /dev/translator
 *   Table III cosnet 9.69 us            cosnet-response (hijackcos.table3.cosnet): a VMM I/O thread
 *                                      moving TUN packets into a KVM guest's ring + irqfd, for cosnet;
 *                                      a veth packet with RPS for the NIC interrupt (aos_cosnet.c)
 *   Table III translator 11.4 us       translator-response (hijackcos.table3.translator): a process
 *                                      forwarding TUN packets over a shared ring + irqfd into a KVM
 *                                      guest, for /dev/translator; veth + RPS for the NIC (aos_cosnet.c)
 *   Table I  kernel compile 351.96 s   compile-bpf-pass, compile-notify-pass (compile.c): a generated
 *            vanilla, 352.25 s with    C project built alternately without and with seccomp on every
 *            interposition             system call (a BPF pass; a user-level notify pass), for Hijack's
 *                                      hardware entry-point interposition on a kernel compile: uncited
 *                                      (another build); the difference is a fact beside the paper's
 *
 * The experiments (each row names its own ops and options; samples in TSC
 * cycles of the measuring CPU; the paper reports mean (stddev) in us):
 *   udp-response   a 16-byte UDP packet arrives on the veth; a receiver
 *                  blocked in recvfrom() on a UDP socket is woken; sample =
 *                  its TSC at the wake-up - the spinner's last TSC (interrupt
 *                  to delivery); it then replies with sendto()
 *   tun-response   the same packet, addressed beyond a TUN device, is
 *                  forwarded by the case's namespace to the device; the
 *                  receiver blocked in read() on /dev/net/tun is woken and
 *                  writes the reply (addresses and ports swapped) back into it
 * Both need root (namespaces, SCHED_FIFO, TUN) and two CPUs (the sender on
 * peer_cpu; the spinner and the receiver on cpu). Where no private network
 * namespace can be made, udp-response uses loopback and says so ("network");
 * tun-response is a skip. The namespaces, the veth and the TUN device belong
 * to the case's processes and end with them on every exit path.
 * The AOS experiments are described where they live: the AOS kernel in
 * mechanisms/kvm/guest/aos.h, its components in guest/cos.c, the host side
 * in aos_vm.c, Table I in aos_invoke.c, Table II in aos_translator.c.
 */
#include "aos_host.h"
#include "hijackcos.h"
#include "translator_kmod.h"

static const struct opt_desc response_opts[] = {
	OPT_INT_FIELD(struct hjc_cfg, interval_us, "1000", 100, 1000000, "us",
		      "after each reply, the sender waits this long before the next packet (a low rate: no nested "
		      "interrupts); the spinner rests a quarter of it after each reply"),
	OPT_INT_FIELD(struct hjc_cfg, spinner_priority, "40", 1, 97, "",
		      "SCHED_FIFO priority of the medium-priority spinner (the case's priority must be higher)"),
	OPT_INT_FIELD(struct hjc_cfg, port, "47100", 1024, 65000, "", "UDP port the packets go to"),
	OPT_BOOL_FIELD(struct hjc_cfg, steer_rx, "true",
		       "RPS on the case's end of the veth: the packet's interrupt and its receive processing on the "
		       "receiver's CPU, as a NIC interrupt there (false: on the sender's CPU)"),
	OPT_TABLE_END,
};

static const struct variant_desc hjc_variants[] = {
	{ .name = "udp-response", .help = "Table III Linux socket (paper 10.30 us): 16-byte UDP packet's interrupt to "
					  "a blocked high-priority receiver, timed against a medium-priority TSC spinner",
	  .unit = SAMPLE_CYCLES, .opts = response_opts, .probe = hjc_response_probe, .setup = hjc_udp_setup,
	  .measure = hjc_response_measure, .teardown = hjc_response_teardown },
	{ .name = "tun-response", .help = "Table III Linux TUN (paper 10.94 us): the same packet read from a TUN "
					  "device, the reply written back into it",
	  .unit = SAMPLE_CYCLES, .opts = response_opts, .probe = hjc_response_probe, .setup = hjc_tun_setup,
	  .measure = hjc_response_measure, .teardown = hjc_response_teardown },
	{ .name = "translator-kmod", .help = "translator as module gapbench_translator's /dev/translator: round trip of "
					     "a 16-byte event to an echo process at the AOS's end (paper Table II is one-way)",
	  .flags = MECH_NEEDS_KMOD | MECH_SUBTRACT_PROBE_OVERHEAD, .kmod = "gapbench_translator",
	  .unit = SAMPLE_CYCLES, .setup = hjc_translator_kmod_setup, .measure = hjc_translator_kmod_measure,
	  .teardown = hjc_translator_kmod_teardown },
	/* Table I's compile with and without interposition (compile.c): samples in ns, one build each. */
	{ .name = "compile-bpf-pass", .help = "Table I kernel compile with interposition (paper 352.25 vs 351.96 s): "
					      "builds of a generated project alternately without and with a seccomp "
					      "BPF filter every system call passes",
	  .unit = SAMPLE_NS, .opts = hjc_compile_opts, .probe = hjc_compile_probe, .setup = hjc_compile_setup,
	  .measure = hjc_compile_bpf_measure, .teardown = hjc_compile_teardown },
	{ .name = "compile-notify-pass", .help = "the same with every system call of the build sent to a user-level "
						 "supervisor that lets it continue (seccomp user notification)",
	  .unit = SAMPLE_NS, .opts = hjc_compile_opts, .probe = hjc_compile_probe, .setup = hjc_compile_setup,
	  .measure = hjc_compile_notify_measure, .teardown = hjc_compile_teardown },
	/* The AOS (aos_*.c): a KVM guest on its own vCPU, components in separate address spaces. */
	{ .name = "cosnet-response", .help = "Table III AOS via cosnet (paper 9.69 us): the same packet read from the "
					     "TUN device by the VMM's I/O thread into a ring shared with the AOS, an "
					     "irqfd interrupt, the AOS component stamps at user level and answers",
	  .flags = MECH_NEEDS_KVM, .unit = SAMPLE_CYCLES, .opts = response_opts, .probe = hjc_response_probe,
	  .setup = hjc_cosnet_setup, .measure = hjc_response_measure, .teardown = aos_cosnet_teardown },
	{ .name = "translator-response", .help = "Table III AOS via translator (paper 11.4 us): the same packet read "
						 "from the TUN device by a Linux process that forwards it through the "
						 "translator (ring, irqfd) to the AOS component, which answers",
	  .flags = MECH_NEEDS_KVM, .unit = SAMPLE_CYCLES, .opts = response_opts, .probe = hjc_response_probe,
	  .setup = hjc_aos_translator_setup, .measure = hjc_response_measure, .teardown = aos_cosnet_teardown },
	{ .name = "aos-invoke", .help = "Table I invocation (paper 0.24 us): A -> B null function and back, SYSCALL, "
					"CR3 switch, SYSRET into B and back; the hardware parts and their share in the "
					"same run (paper 69.85%)",
	  .flags = MECH_NEEDS_KVM, .unit = SAMPLE_CYCLES, .setup = aos_invoke_setup,
	  .measure = aos_invoke_measure, .teardown = aos_teardown },
	{ .name = "aos-invoke-shared", .help = "Table I invocation without the page-table update (paper 0.23 us): "
					       "B on A's tables, no CR3 write",
	  .flags = MECH_NEEDS_KVM, .unit = SAMPLE_CYCLES, .setup = aos_invoke_setup,
	  .measure = aos_invoke_shared_measure, .teardown = aos_teardown },
	{ .name = "aos-hw-syscalls", .help = "Table I hardware part (paper 0.08 us): two null system-call round "
					     "trips into the AOS kernel (SYSCALL/SYSRET)",
	  .flags = MECH_NEEDS_KVM, .unit = SAMPLE_CYCLES, .setup = aos_invoke_setup,
	  .measure = aos_hw_syscalls_measure, .teardown = aos_teardown },
	{ .name = "aos-hw-cr3", .help = "Table I hardware part (paper 0.08 us): two CR3 writes (B's tables and "
					"back), timed in the AOS kernel",
	  .flags = MECH_NEEDS_KVM, .unit = SAMPLE_CYCLES, .setup = aos_invoke_setup,
	  .measure = aos_hw_cr3_measure, .teardown = aos_teardown },
	{ .name = "translator-to-aos", .help = "Table II translator process->cos (paper 0.73 us): shared ring + "
					       "irqfd interrupt waking an AOS component, user level to user level",
	  .flags = MECH_NEEDS_KVM, .unit = SAMPLE_CYCLES, .opts = aos_translator_opts, .setup = aos_to_aos_setup,
	  .measure = aos_to_aos_measure, .teardown = aos_teardown },
	{ .name = "translator-from-aos", .help = "Table II translator cos->process (paper 0.51 us): shared ring + "
						 "ioeventfd doorbell waking a process blocked on an eventfd",
	  .flags = MECH_NEEDS_KVM, .unit = SAMPLE_CYCLES, .opts = aos_translator_opts, .setup = aos_from_aos_setup,
	  .measure = aos_from_aos_measure, .teardown = aos_teardown },
	{ NULL, NULL },
};

static const struct mechanism_ops hjc_ops = {
	.name = "hijackcos",
	.abi_version = MECHANISM_ABI_VERSION,
	.flags = MECH_NEEDS_ROOT | MECH_NEEDS_2CPUS,
	.help = "Hijack^COS (seed 002): I/O response time of Linux sockets and TUN with the paper's rdtsc spinner; "
		"the AOS (a KVM guest): component invocation and its hardware parts, the translator both ways",
	.variants = hjc_variants,
	.cfg_size = sizeof(struct hjc_cfg_all),
	.priv_size = sizeof(struct hjc_priv_all),
	.unit = SAMPLE_CYCLES,
};
MECHANISM_REGISTER(hjc_ops)
