/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel events: module load and unload, bpf() commands, and memory made executable (mmap and
 * mprotect with PROT_EXEC; other protections are filtered here, in the kernel).
 */
#include "common.h"

/* ---- modules ---- */

/* The module's own name, known only inside the loading syscall. */
SEC("raw_tracepoint/module_load")
int vg_module_load(struct bpf_raw_tracepoint_args *ctx)
{
	if (!enabled(VG_EV_LOAD_MODULE) || is_self())
		return 0;
	struct module *mod = (struct module *)ctx->args[0];
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct vg_small s = {};
	BPF_CORE_READ_STR_INTO(&s.name, mod, name);
	bpf_map_update_elem(&vg_small, &tid, &s, BPF_ANY);
	return 0;
}

static __always_inline int on_load_module(long ret, long fd, const char *args, int from_memory)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct vg_small *s = bpf_map_lookup_elem(&vg_small, &tid);
	RECORD(vg_rec_module, VG_EV_LOAD_MODULE);
	r->retval = ret;
	r->from_memory = from_memory;
	if (s) {
		append_str(data, &off, VG_DATA_HALF, &r->name, s->name, sizeof(s->name), 0);
		bpf_map_delete_elem(&vg_small, &tid);
	}
	append_str(data, &off, VG_DATA_HALF, &r->args, args, 1024, 1);
	if (!from_memory)
		fill_fd(data, &off, VG_DATA_HALF, &r->file, fd, t);
	SEND();
	return 0;
}

EXIT_PROG(init_module) { ARGS; return on_load_module(ctx->ret, -1, (const char *)a.a[2], 1); }
EXIT_PROG(finit_module) { ARGS; return on_load_module(ctx->ret, a.a[0], (const char *)a.a[1], 0); }

EXIT_PROG(delete_module)
{
	EXIT_RECORD(vg_rec_module, VG_EV_UNLOAD_MODULE);
	ARGS;
	append_str(data, &off, VG_DATA_HALF, &r->name, (const void *)a.a[0], 64, 1);
	SEND();
	return 0;
}

/* ---- bpf() ---- */

#define BPF_CALL_INSN 0x85
#define HELPER_CHUNK 16
#define HELPER_CHUNKS 256 /* 4096 instructions scanned at most */

struct vg_insn {
	__u8 code;
	__u8 regs;
	__s16 off;
	__s32 imm;
};

struct helper_scan {
	const struct vg_insn *insns;
	__u32 count;
	__u64 *helpers;
};

/* One chunk of instructions: mark helper calls (BPF_CALL with src_reg 0). */
static long scan_chunk(__u32 i, struct helper_scan *s)
{
	struct vg_insn chunk[HELPER_CHUNK];
	__u32 first = i * HELPER_CHUNK;
	if (first >= s->count)
		return 1;
	if (bpf_probe_read_user(chunk, sizeof(chunk), s->insns + first) < 0)
		return 1;
	for (int j = 0; j < HELPER_CHUNK; j++) {
		if (first + j >= s->count)
			return 1;
		if (chunk[j].code == BPF_CALL_INSN && (chunk[j].regs >> 4) == 0) {
			__u32 id = chunk[j].imm;
			if (id < 64 * VG_BPF_HELPER_WORDS)
				s->helpers[(id >> 6) & (VG_BPF_HELPER_WORDS - 1)] |= 1ULL << (id & 63);
		}
	}
	return 0;
}

/* The program or map behind a descriptor: for every command naming one. */
static __always_inline void bpf_prog_info(struct vg_rec_bpf *r, struct task_struct *t, long fd)
{
	struct file *f = fd_file(t, fd);
	if (!f)
		return;
	struct bpf_prog *prog = BPF_CORE_READ(f, private_data);
	if (!prog)
		return;
	r->prog_type = BPF_CORE_READ(prog, type);
	r->attach_type = BPF_CORE_READ(prog, expected_attach_type);
	BPF_CORE_READ_INTO(&r->prog_tag, prog, tag);
	BPF_CORE_READ_STR_INTO(&r->prog_name, prog, aux, name);
}

static __always_inline void bpf_map_info(struct vg_rec_bpf *r, struct task_struct *t, long fd)
{
	struct file *f = fd_file(t, fd);
	if (!f)
		return;
	struct bpf_map *map = BPF_CORE_READ(f, private_data);
	if (!map)
		return;
	r->map_type = BPF_CORE_READ(map, map_type);
	BPF_CORE_READ_STR_INTO(&r->map_name, map, name);
}

EXIT_PROG(bpf)
{
	EXIT_RECORD(vg_rec_bpf, VG_EV_BPF);
	ARGS;
	long ret = ctx->ret;
	int cmd = a.a[0];
	const __u8 *attr = (const __u8 *)a.a[1];
	__u32 fd = 0;
	r->cmd = cmd;
	switch (cmd) {
	case BPF_MAP_CREATE:
		bpf_probe_read_user(&r->map_type, 4, attr + offsetof(union bpf_attr, map_type));
		bpf_probe_read_user(&r->map_name, 16, attr + offsetof(union bpf_attr, map_name));
		break;
	case BPF_PROG_LOAD: {
		struct helper_scan s = { .helpers = r->helpers };
		__u64 insns = 0;
		bpf_probe_read_user(&r->prog_type, 4, attr + offsetof(union bpf_attr, prog_type));
		bpf_probe_read_user(&r->attach_type, 4, attr + offsetof(union bpf_attr, expected_attach_type));
		bpf_probe_read_user(&r->prog_name, 16, attr + offsetof(union bpf_attr, prog_name));
		bpf_probe_read_user(&s.count, 4, attr + offsetof(union bpf_attr, insn_cnt));
		bpf_probe_read_user(&insns, 8, attr + offsetof(union bpf_attr, insns));
		s.insns = (const struct vg_insn *)insns;
		bpf_loop(HELPER_CHUNKS, scan_chunk, &s, 0);
		if (ret >= 0) {
			struct file *f = fd_file(t, ret);
			struct bpf_prog *prog = BPF_CORE_READ(f, private_data);
			BPF_CORE_READ_INTO(&r->prog_tag, prog, tag);
		}
		break;
	}
	case BPF_MAP_LOOKUP_ELEM:
	case BPF_MAP_UPDATE_ELEM:
	case BPF_MAP_DELETE_ELEM:
	case BPF_MAP_GET_NEXT_KEY:
	case BPF_MAP_LOOKUP_AND_DELETE_ELEM:
	case BPF_MAP_FREEZE:
		bpf_probe_read_user(&fd, 4, attr + offsetof(union bpf_attr, map_fd));
		bpf_map_info(r, t, fd);
		break;
	case BPF_PROG_ATTACH:
	case BPF_PROG_DETACH:
		bpf_probe_read_user(&fd, 4, attr + offsetof(union bpf_attr, attach_bpf_fd));
		bpf_prog_info(r, t, fd);
		bpf_probe_read_user(&r->attach_type, 4, attr + offsetof(union bpf_attr, attach_type));
		break;
	case BPF_PROG_TEST_RUN:
		bpf_probe_read_user(&fd, 4, attr + offsetof(union bpf_attr, test.prog_fd));
		bpf_prog_info(r, t, fd);
		break;
	case BPF_RAW_TRACEPOINT_OPEN:
		bpf_probe_read_user(&fd, 4, attr + offsetof(union bpf_attr, raw_tracepoint.prog_fd));
		bpf_prog_info(r, t, fd);
		break;
	case BPF_LINK_CREATE:
		bpf_probe_read_user(&fd, 4, attr + offsetof(union bpf_attr, link_create.prog_fd));
		bpf_prog_info(r, t, fd);
		bpf_probe_read_user(&r->attach_type, 4, attr + offsetof(union bpf_attr, link_create.attach_type));
		break;
	}
	SEND();
	return 0;
}

/* ---- executable memory ---- */

EXIT_PROG(mmap)
{
	ARGS;
	__u32 prot = a.a[2], flags = a.a[3];
	if (!(prot & PROT_EXEC))
		return 0;
	EXIT_RECORD(vg_rec_mmap, VG_EV_MMAP);
	r->addr = a.a[0];
	r->len = a.a[1];
	r->prot = prot;
	r->flags = flags;
	if (!(flags & MAP_ANONYMOUS) && (long)a.a[4] >= 0)
		fill_fd(data, &off, VG_DATA_HALF, &r->file, a.a[4], t);
	SEND();
	return 0;
}

static long vma_flags(struct task_struct *task, struct vm_area_struct *vma, void *out)
{
	*(__u64 *)out = BPF_CORE_READ(vma, vm_flags);
	return 0;
}

/* mprotect: the mapping's flags before the call are kept for the exit. */
ENTER_PROG(mprotect)
{
	if (!enabled(VG_EV_MPROTECT) || is_self() || !(ctx->args[2] & PROT_EXEC))
		return 0;
	__u64 vm = 0;
	bpf_find_vma(bpf_get_current_task_btf(), ctx->args[0], vma_flags, &vm, 0);
	save_for_exit(vm);
	return 0;
}

EXIT_PROG(mprotect)
{
	ARGS;
	if (!(a.a[2] & PROT_EXEC))
		return 0;
	__u64 vm;
	if (!take_saved(&vm))
		return 0;
	EXIT_RECORD(vg_rec_mmap, VG_EV_MPROTECT);
	r->addr = a.a[0];
	r->len = a.a[1];
	r->prot = a.a[2];
	r->vm_flags = vm;
	SEND();
	return 0;
}
