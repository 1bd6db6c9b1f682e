/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every program shares: the ring buffer and counters, the read-only configuration set by
 * the loader before load, the process context, argument access at syscall exit, and path
 * resolution from the kernel's own dentries and mounts.
 *
 * Records are assembled in a per-CPU scratch buffer (fixed struct, then a data area for
 * strings and paths) and copied to the ring with only the bytes used, so a 60-byte path does
 * not cost a 32 KiB ring slot. Programs here run with preemption disabled (tracepoints and raw
 * tracepoints), so one scratch buffer per CPU is never shared by two programs at once.
 */
#ifndef VIGIL_COMMON_H
#define VIGIL_COMMON_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>

#include "vigil.h"
#include "vigil_file.h"
#include "vigil_kernel.h"
#include "vigil_network.h"
#include "vigil_process.h"

#define AT_FDCWD -100
#define AT_SYMLINK_NOFOLLOW 0x100
#define AT_REMOVEDIR 0x200
#define AT_EMPTY_PATH 0x1000
#define O_WRONLY 01
#define O_CREAT 0100
#define O_TRUNC 01000
#define PROT_EXEC 0x4
#define MAP_ANONYMOUS 0x20
#define MS_BIND 4096
#define PR_SET_NAME 15
#define PTRACE_TRACEME 0
#define S_IFMT 00170000
#define S_IFIFO 0010000
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10

#define VG_DATA_MASK (VG_DATA_HALF - 1)
#define VG_SCRATCH_SIZE (VG_FIXED_MAX + VG_DATA_SIZE)
#define VG_PENDING_SIZE (VG_FIXED_MAX + VG_PENDING_DATA)

/* ---- configuration (.rodata, written by the loader before load) ---- */

/* The agent itself: its own syscalls are never reported. */
const volatile __u32 vg_self_tgid = 0;
/* Bit n set: event type n is reported. Known at load, so the verifier prunes the rest. */
const volatile __u64 vg_enabled = ~0ULL;
/* Bytes of argv / envp copied at exec (at most VG_ARGS_MAX / VG_ENVS_MAX). */
const volatile __u32 vg_args_max = 4096;
const volatile __u32 vg_envs_max = 8192;
/* Ring submit flags: the reader polls on a timer, so by default no wakeups are sent. */
const volatile __u64 vg_rb_flags = BPF_RB_NO_WAKEUP;

/* ---- maps ---- */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} vg_events SEC(".maps");

/*
 * Variables of a path walk. They live in the map value rather than on the stack so that the
 * verifier, which tracks stack values precisely, checks one walk step instead of every depth.
 */
struct walk_vars {
	struct dentry *d;
	struct vfsmount *vm;
	struct mount *m;
	struct dentry *root_d;
	struct vfsmount *root_m;
	__u32 off;
	__u32 limit;
	__u16 flags;
	__u16 depth;
	__u32 _pad;
};

struct vg_scratch {
	__u8 buf[VG_SCRATCH_SIZE];
	struct walk_vars walk;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_scratch);
} vg_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_counters);
} vg_counters SEC(".maps");

/* Records built at syscall entry (names resolved before the call changes them), by thread. */
struct vg_pending {
	__u8 buf[VG_PENDING_SIZE];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 512);
	__type(key, __u32);
	__type(value, struct vg_pending);
} vg_pending SEC(".maps");

/* Small state carried from entry to exit (mprotect, splice) or from a kernel hook (module name). */
struct vg_small {
	__u64 a;
	__u64 b;
	char name[64];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct vg_small);
} vg_small SEC(".maps");

/*
 * Every record type and the event type enum in one struct, referenced from .rodata, so the
 * object's BTF describes them all: the layout test compares probes/ebpf/layout.ts with it.
 */
struct vg_layout {
	enum vg_event_type type;
	struct vg_counters counters;
	struct vg_rec_file file;
	struct vg_rec_file2 file2;
	struct vg_rec_splice splice;
	struct vg_rec_exec exec;
	struct vg_rec_fork fork;
	struct vg_rec_exit exit;
	struct vg_rec_cred cred;
	struct vg_rec_ptrace ptrace;
	struct vg_rec_signal signal;
	struct vg_rec_prctl prctl;
	struct vg_rec_net net;
	struct vg_rec_module module;
	struct vg_rec_bpf bpf;
	struct vg_rec_mmap mmap;
};
struct vg_layout *const volatile vg_layout_anchor = 0;

/* ---- basics ---- */

static __always_inline int enabled(__u32 type)
{
	return (vg_enabled >> (type & (VG_EV_SLOTS - 1))) & 1;
}

static __always_inline int is_self(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == vg_self_tgid;
}

static __always_inline __u8 *scratch(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&vg_scratch, &zero);
}

/* The scratch buffer for a record of `type`; NULL when that type is off or the caller is the agent. */
static __always_inline __u8 *record_buffer(__u32 type)
{
	if (!enabled(type) || is_self())
		return NULL;
	return scratch();
}

static __always_inline void count(__u32 type, int ok)
{
	__u32 zero = 0;
	struct vg_counters *c = bpf_map_lookup_elem(&vg_counters, &zero);
	if (!c)
		return;
	if (ok)
		c->sent[type & (VG_EV_SLOTS - 1)]++;
	else
		c->lost[type & (VG_EV_SLOTS - 1)]++;
}

/* Keep `v` for the calling thread until its syscall exits (see take_saved). */
static __always_inline void save_for_exit(__u64 v)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct vg_small s = { .a = v };
	bpf_map_update_elem(&vg_small, &tid, &s, BPF_ANY);
}

/* The value the calling thread kept at syscall entry, in `v`, and forget it; 0 when there is none. */
static __always_inline int take_saved(__u64 *v)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct vg_small *s = bpf_map_lookup_elem(&vg_small, &tid);
	if (!s)
		return 0;
	*v = s->a;
	bpf_map_delete_elem(&vg_small, &tid);
	return 1;
}

/* Copy the `size` first bytes of a record to the ring; count what was written or lost. */
static __always_inline void submit(void *rec, __u64 size, __u64 max)
{
	struct vg_hdr *h = rec;
	__u32 type = h->type;
	/* hide what the compiler proved about `size`, or it drops a clamp the verifier needs */
	asm volatile("" : "+r"(size));
	if (size > max)
		size = max;
	h->size = size;
	long err = bpf_ringbuf_output(&vg_events, rec, size, vg_rb_flags);
	count(type, err == 0);
}

/* ---- process context ---- */

struct vg_ids {
	__u32 uid, gid, suid, sgid, euid, egid, fsuid, fsgid;
};

/*
 * The running task's credentials, ids and comm. `t` comes from bpf_get_current_task_btf(), a
 * pointer the verifier trusts, so fields load directly (no helper call per field): this runs
 * for every event.
 */
static __always_inline void fill_proc_current(struct vg_proc *p, struct task_struct *t)
{
	const struct cred *c = t->cred;
	__u64 pt = bpf_get_current_pid_tgid();
	p->pid = pt >> 32;
	p->tid = (__u32)pt;
	p->ppid = t->real_parent->tgid;
	p->uid = c->uid.val;
	p->gid = c->gid.val;
	p->euid = c->euid.val;
	p->egid = c->egid.val;
	p->fsuid = c->fsuid.val;
	p->fsgid = c->fsgid.val;
	/* kernel_cap_t is 64 bits: a u64 since 6.3, two u32 before; the bytes are the same */
	bpf_core_read(&p->cap_effective, sizeof(__u64), &c->cap_effective);
	bpf_core_read(&p->cap_permitted, sizeof(__u64), &c->cap_permitted);
	/* loginuid exists only with CONFIG_AUDIT; unset is (u32)-1, as the kernel shows it */
	p->auid = bpf_core_field_exists(t->loginuid) ? t->loginuid.val : (__u32)-1;
	bpf_get_current_comm(p->comm, sizeof(p->comm));
	p->cgroup_id = bpf_get_current_cgroup_id();
}

/* The same for another task (the child at fork), whose pointer is read through helpers. */
static __always_inline void fill_proc_task(struct vg_proc *p, struct task_struct *t)
{
	const struct cred *c = BPF_CORE_READ(t, cred);
	struct vg_ids ids = {};
	/* uid … fsgid are eight consecutive 32-bit fields of struct cred on every kernel */
	bpf_core_read(&ids, sizeof(ids), &c->uid);
	p->uid = ids.uid;
	p->gid = ids.gid;
	p->euid = ids.euid;
	p->egid = ids.egid;
	p->fsuid = ids.fsuid;
	p->fsgid = ids.fsgid;
	bpf_core_read(&p->cap_effective, sizeof(__u64), &c->cap_effective);
	bpf_core_read(&p->cap_permitted, sizeof(__u64), &c->cap_permitted);
	p->auid = bpf_core_field_exists(t->loginuid) ? BPF_CORE_READ(t, loginuid.val) : (__u32)-1;
	p->ppid = BPF_CORE_READ(t, real_parent, tgid);
	p->pid = BPF_CORE_READ(t, tgid);
	p->tid = BPF_CORE_READ(t, pid);
	BPF_CORE_READ_STR_INTO(&p->comm, t, comm);
	p->cgroup_id = bpf_get_current_cgroup_id();
}

static __always_inline struct task_struct *begin_base(struct vg_base *b, __u32 type)
{
	struct task_struct *t = bpf_get_current_task_btf();
	b->hdr.type = type;
	b->hdr.ts = bpf_ktime_get_ns();
	fill_proc_current(&b->proc, t);
	return t;
}

/* Zero the fixed part of record `rec` and fill its header and process context; gives the task. */
#define BEGIN(rec, type) ({ __builtin_memset((rec), 0, sizeof(*(rec))); begin_base(&(rec)->base, (type)); })

/* ---- syscall arguments at exit ---- */

struct vg_args {
	__u64 a[5];
};

/*
 * The arguments of the current syscall, from the registers saved at entry: a syscall exit
 * tracepoint carries only the return value, and the saved registers still hold the arguments.
 * bpf_task_pt_regs() gives a pointer the verifier trusts: the registers load directly.
 */
static __always_inline void sys_args(struct vg_args *args)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct pt_regs *r = (struct pt_regs *)bpf_task_pt_regs(t);
	args->a[0] = PT_REGS_PARM1_SYSCALL(r);
	args->a[1] = PT_REGS_PARM2_SYSCALL(r);
	args->a[2] = PT_REGS_PARM3_SYSCALL(r);
	args->a[3] = PT_REGS_PARM4_SYSCALL(r);
	args->a[4] = PT_REGS_PARM5_SYSCALL(r);
}

/* ---- strings in the data area ---- */

/* Append a string of at most `max` bytes (a constant ≤ VG_CHUNK_MAX); 0 on success. */
static __always_inline int append_str(__u8 *data, __u32 *off, __u32 limit, struct vg_str *out,
				      const void *src, __u32 max, int user)
{
	__u32 o = *off;
	long n;
	if (!src || o + max > limit)
		return -1;
	if (user)
		n = bpf_probe_read_user_str(&data[o & VG_DATA_MASK], max, src);
	else
		n = bpf_probe_read_kernel_str(&data[o & VG_DATA_MASK], max, src);
	if (n <= 0)
		return -1;
	out->off = o;
	out->len = n - 1;
	*off = o + n;
	return 0;
}

/* Append `len` raw bytes of user memory (at most `max`, a constant ≤ VG_CHUNK_MAX). */
static __always_inline __u32 append_user_bytes(__u8 *data, __u32 *off, __u32 limit, struct vg_str *out,
					      const void *src, __u64 len, __u32 max)
{
	__u32 o = *off;
	__u32 n = len > max ? max : len;
	if (o + max > limit || n == 0)
		return 0;
	/* keep the bound visible to the verifier whatever the compiler did with the compare */
	n &= (VG_CHUNK_MAX << 1) - 1;
	if (n > max)
		return 0;
	if (bpf_probe_read_user(&data[o & VG_DATA_MASK], n, src) < 0)
		return 0;
	out->off = o;
	out->len = n;
	*off = o + n;
	return n;
}

/* ---- files and paths ---- */

static __always_inline struct mount *real_mount(struct vfsmount *vm)
{
	return (struct mount *)((__u8 *)vm - bpf_core_field_offset(struct mount, mnt));
}

static __always_inline __u16 top_of(struct mount *m)
{
	void *ns = BPF_CORE_READ(m, mnt_ns);
	if (!ns)
		return VG_PATH_DETACHED;
	/* kernel-internal mounts carry MNT_NS_INTERNAL, an error pointer */
	if ((long)ns < 0 && (long)ns > -4096)
		return VG_PATH_INTERNAL;
	return VG_PATH_TOP;
}

struct walk_ctx {
	__u8 *data;
	struct walk_vars *v;
};

/* One step up: a name, or a mount crossing; returns 1 once the walk has ended. */
static long walk_step(__u32 i, struct walk_ctx *c)
{
	struct walk_vars *w = c->v;
	struct dentry *d = w->d;
	struct vfsmount *vm = w->vm;
	struct mount *m = w->m;

	if (d == w->root_d && vm == w->root_m) {
		w->flags = VG_PATH_ROOT;
		return 1;
	}
	struct dentry *mnt_root = BPF_CORE_READ(vm, mnt_root);
	if (d == mnt_root) {
		struct mount *pm = BPF_CORE_READ(m, mnt_parent);
		if (pm == m) {
			w->flags = top_of(m);
			return 1;
		}
		w->d = BPF_CORE_READ(m, mnt_mountpoint);
		w->m = pm;
		w->vm = (struct vfsmount *)((__u8 *)pm + bpf_core_field_offset(struct mount, mnt));
		return 0;
	}
	struct dentry *parent = BPF_CORE_READ(d, d_parent);
	if (!d || parent == d) {
		w->flags = top_of(m) == VG_PATH_INTERNAL ? VG_PATH_INTERNAL : VG_PATH_DETACHED;
		return 1;
	}
	__u32 o = w->off;
	if (o + 256 > w->limit || o >= VG_DATA_HALF) {
		w->flags = VG_PATH_NO_SPACE;
		return 1;
	}
	const unsigned char *name = BPF_CORE_READ(d, d_name.name);
	long n = bpf_probe_read_kernel_str(&c->data[o & VG_DATA_MASK], 256, name);
	if (n <= 0) {
		w->flags = VG_PATH_READ_ERR;
		return 1;
	}
	w->off = o + n;
	w->depth++;
	w->d = parent;
	return 0;
}

/*
 * Walk from (d, vm) up to the process root of `t`, crossing mounts, writing each name (leaf
 * first) to the data area. The process root is where `/` is for the task (chroot, container).
 */
static __always_inline void walk(__u8 *data, __u32 *off, __u32 limit, struct vg_path *out,
				 struct dentry *d, struct vfsmount *vm, struct task_struct *t)
{
	__u32 zero = 0;
	struct vg_scratch *s = bpf_map_lookup_elem(&vg_scratch, &zero);
	if (!s) {
		out->flags = VG_PATH_READ_ERR;
		return;
	}
	struct walk_vars *w = &s->walk;
	w->d = d;
	w->vm = vm;
	w->m = real_mount(vm);
	w->root_d = BPF_CORE_READ(t, fs, root.dentry);
	w->root_m = BPF_CORE_READ(t, fs, root.mnt);
	w->off = *off;
	w->limit = limit;
	w->flags = 0;
	w->depth = 0;
	struct walk_ctx c = { .data = data, .v = w };
	bpf_loop(VG_PATH_DEPTH_MAX, walk_step, &c, 0);
	__u32 end = w->off;
	if (end < *off || end > limit)
		end = *off;
	out->off = *off;
	out->len = end - *off;
	out->depth = w->depth;
	out->flags = w->flags ? w->flags : VG_PATH_TOO_DEEP;
	*off = end;
}

/* struct inode time fields: sec/nsec pairs since 6.11, timespec64 before. */
struct inode___ts {
	struct timespec64 i_mtime;
	struct timespec64 i_ctime;
} __attribute__((preserve_access_index));

static __always_inline void fill_inode(struct vg_file *f, struct inode *ino)
{
	if (!ino)
		return;
	f->ino = BPF_CORE_READ(ino, i_ino);
	f->mode = BPF_CORE_READ(ino, i_mode);
	f->uid = BPF_CORE_READ(ino, i_uid.val);
	f->gid = BPF_CORE_READ(ino, i_gid.val);
	if (bpf_core_field_exists(struct inode, i_mtime_sec)) {
		f->mtime_sec = BPF_CORE_READ(ino, i_mtime_sec);
		f->mtime_nsec = BPF_CORE_READ(ino, i_mtime_nsec);
		f->ctime_sec = BPF_CORE_READ(ino, i_ctime_sec);
		/* multigrain timestamps (6.13+) keep a flag in the top bit of the ctime nanoseconds */
		f->ctime_nsec = BPF_CORE_READ(ino, i_ctime_nsec) & 0x3fffffff;
	} else if (bpf_core_field_exists(struct inode___ts, i_mtime)) {
		struct inode___ts *o = (void *)ino;
		f->mtime_sec = BPF_CORE_READ(o, i_mtime.tv_sec);
		f->mtime_nsec = BPF_CORE_READ(o, i_mtime.tv_nsec);
		f->ctime_sec = BPF_CORE_READ(o, i_ctime.tv_sec);
		f->ctime_nsec = BPF_CORE_READ(o, i_ctime.tv_nsec);
	}
	bpf_probe_read_kernel_str(f->fstype, sizeof(f->fstype), BPF_CORE_READ(ino, i_sb, s_type, name));
}

/* The file behind descriptor `fd` of `t`, or NULL. */
static __always_inline struct file *fd_file(struct task_struct *t, long fd)
{
	struct file *f = NULL;
	if (fd < 0 || fd > 0x7fffffff)
		return NULL;
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	if (!fdt || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

/* The object at (d, vm): inode fields, mount id, and its path walked in the kernel. */
static __always_inline void fill_object(__u8 *data, __u32 *off, __u32 limit, struct vg_file *f,
					struct dentry *d, struct vfsmount *vm, struct task_struct *t)
{
	if (!d || !vm) {
		f->path.flags = VG_PATH_READ_ERR;
		return;
	}
	f->kind = VG_FILE_OBJECT;
	fill_inode(f, BPF_CORE_READ(d, d_inode));
	f->mount_id = BPF_CORE_READ(real_mount(vm), mnt_id);
	walk(data, off, limit, &f->path, d, vm, t);
}

static __always_inline void fill_file(__u8 *data, __u32 *off, __u32 limit, struct vg_file *f,
				      struct file *file, struct task_struct *t)
{
	if (!file) {
		f->path.flags = VG_PATH_READ_ERR;
		return;
	}
	fill_object(data, off, limit, f, BPF_CORE_READ(file, f_path.dentry), BPF_CORE_READ(file, f_path.mnt), t);
}

static __always_inline void fill_fd(__u8 *data, __u32 *off, __u32 limit, struct vg_file *f, long fd,
				    struct task_struct *t)
{
	fill_file(data, off, limit, f, fd_file(t, fd), t);
}

/*
 * A name as given to a syscall: the string, and unless it is absolute, the directory it is
 * relative to (dirfd, or the working directory for AT_FDCWD) walked in the kernel. The reader
 * joins and normalises them.
 */
static __always_inline void fill_name(__u8 *data, __u32 *off, __u32 limit, struct vg_file *f, long dirfd,
				      const char *name, int user, struct task_struct *t)
{
	f->kind = VG_FILE_NAME;
	if (append_str(data, off, limit, &f->name, name, VG_USER_PATH_MAX, user) < 0) {
		f->path.flags = VG_PATH_READ_ERR;
		return;
	}
	if (data[f->name.off & VG_DATA_MASK] == '/') {
		f->path.flags = VG_PATH_ABSOLUTE;
		return;
	}
	if ((int)dirfd == AT_FDCWD) {
		walk(data, off, limit, &f->path, BPF_CORE_READ(t, fs, pwd.dentry), BPF_CORE_READ(t, fs, pwd.mnt), t);
		return;
	}
	struct file *dir = fd_file(t, (int)dirfd);
	if (!dir) {
		f->path.flags = VG_PATH_READ_ERR;
		return;
	}
	walk(data, off, limit, &f->path, BPF_CORE_READ(dir, f_path.dentry), BPF_CORE_READ(dir, f_path.mnt), t);
}

/*
 * The target of an *at() call: the name relative to dirfd, or the file of dirfd itself when
 * the name is NULL (utimensat) or empty with AT_EMPTY_PATH.
 */
static __always_inline void fill_at(__u8 *data, __u32 *off, __u32 limit, struct vg_file *f, long dirfd,
				    const char *name, __u64 at_flags, struct task_struct *t)
{
	char first = 0;
	if (name && (at_flags & AT_EMPTY_PATH))
		bpf_probe_read_user(&first, 1, name);
	if (!name || ((at_flags & AT_EMPTY_PATH) && first == 0)) {
		fill_fd(data, off, limit, f, dirfd, t);
		return;
	}
	fill_name(data, off, limit, f, dirfd, name, 1, t);
}

/* ---- records ---- */

/*
 * Start a record of struct `rec_t` and event `type` in the scratch buffer, or return 0 from the
 * program when that type is off, the caller is the agent, or there is no buffer. Declares `r`
 * (the fixed struct: zeroed, header and process context filled), `data` and `off` (the data
 * area after it and the bytes used there) and `t` (the current task). A statement: use it in a
 * block, before the event's own fields are filled.
 */
#define RECORD(rec_t, type)                                                        \
	__u8 *rec_buf_ = record_buffer(type);                                      \
	if (!rec_buf_)                                                             \
		return 0;                                                          \
	struct rec_t *r = (struct rec_t *)rec_buf_;                                \
	__u8 *data __attribute__((unused)) = rec_buf_ + sizeof(*r);                \
	__u32 off = 0;                                                             \
	struct task_struct *t __attribute__((unused)) = BEGIN(r, type)

/* RECORD in a syscall exit program, with the call's return value. */
#define EXIT_RECORD(rec_t, type) \
	RECORD(rec_t, type);     \
	r->retval = ctx->ret

/* Send the record started by RECORD: its fixed struct and the part of the data area used. */
#define SEND() submit(r, sizeof(*r) + off, VG_SCRATCH_SIZE)

/* Declares `a`, the arguments of the current syscall (see sys_args). */
#define ARGS              \
	struct vg_args a; \
	sys_args(&a)

#define EXIT_PROG(sc) \
	SEC("tracepoint/syscalls/sys_exit_" #sc) int vg_x_##sc(struct trace_event_raw_sys_exit *ctx)
#define ENTER_PROG(sc) \
	SEC("tracepoint/syscalls/sys_enter_" #sc) int vg_e_##sc(struct trace_event_raw_sys_enter *ctx)

#endif
