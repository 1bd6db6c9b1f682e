/* Kernel records: modules, bpf(), executable memory (mmap, mprotect). See vigil.h. */
#ifndef VIGIL_KERNEL_H
#define VIGIL_KERNEL_H

#include "vigil.h"

struct vg_rec_module {
	struct vg_base base;
	struct vg_file file; /* finit_module: the module file */
	__s64 retval;
	struct vg_str name; /* load: name from the kernel when it loaded; unload: as given */
	struct vg_str args; /* load: parameters */
	__u32 from_memory;  /* init_module (an image in memory) rather than finit_module */
	__u32 _pad;
};

#define VG_BPF_HELPER_WORDS 4

struct vg_rec_bpf {
	struct vg_base base;
	__s64 retval;
	__s32 cmd;
	__u32 prog_type;
	__u32 map_type;
	__u32 attach_type;
	char prog_name[16];
	char map_name[16];
	__u8 prog_tag[8];
	__u64 helpers[VG_BPF_HELPER_WORDS]; /* bit n: helper n is called (BPF_PROG_LOAD) */
};

struct vg_rec_mmap {
	struct vg_base base;
	struct vg_file file; /* mmap of a file */
	__s64 retval;
	__u64 addr;
	__u64 len;
	__u32 prot;  /* requested protection */
	__u32 flags; /* mmap flags */
	__u64 vm_flags; /* mprotect: the mapping's flags before the call */
};

#endif
