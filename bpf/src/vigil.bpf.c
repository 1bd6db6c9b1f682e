// SPDX-License-Identifier: GPL-2.0
/*
 * vigil's BPF programs, built into one object (bpf/.output/vigil.bpf.o) so they share the ring
 * buffer, the counters and the configuration. Each family (file, process, network, kernel) is
 * its own source; the loader (probes/ebpf) loads only the programs of the enabled event types,
 * and an event type whose bit is clear in vg_enabled is pruned by the verifier.
 *
 * Program names: vg_x_<syscall> runs at the syscall's exit, vg_e_<syscall> at its entry,
 * vg_<name> on a scheduler or module raw tracepoint.
 */
#include "common.h"

char LICENSE[] SEC("license") = "GPL";

#include "file.bpf.c"
#include "kernel.bpf.c"
#include "network.bpf.c"
#include "process.bpf.c"
