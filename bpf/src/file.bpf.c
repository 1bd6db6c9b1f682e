/* SPDX-License-Identifier: GPL-2.0 */
/*
 * File events: open, chmod, chown, utimes, setxattr, removexattr, mkdir, rmdir, unlink,
 * rename, link, chdir, mount, umount, splice.
 *
 * Calls that yield a file (open, creat, fchmod…) walk the file's own dentries and mounts.
 * Calls on names resolve the directory the name is relative to in the kernel: at exit for
 * calls that leave names in place, at entry for unlink, rmdir and rename (the names are gone
 * or moved by the exit), keeping the record in vg_pending until the exit adds the result.
 */
#include "common.h"

/* ---- one file, at exit ---- */

struct file_rec {
	struct vg_rec_file *r;
	__u8 *data;
	__u32 off;
	struct task_struct *t;
};

static __always_inline int file_begin(struct file_rec *fr, __u32 type, long ret)
{
	if (!enabled(type) || is_self())
		return -1;
	__u8 *buf = scratch();
	if (!buf)
		return -1;
	fr->r = (struct vg_rec_file *)buf;
	fr->data = buf + sizeof(struct vg_rec_file);
	fr->off = 0;
	fr->t = BEGIN(fr->r, type);
	fr->r->retval = ret;
	return 0;
}

static __always_inline void file_submit(struct file_rec *fr)
{
	submit(fr->r, sizeof(struct vg_rec_file) + fr->off, VG_SCRATCH_SIZE);
}

#define F_ARGS fr.data, &fr.off, VG_DATA_HALF, &fr.r->file

/* open: the opened file when the call succeeded, else the name it was given. */
static __always_inline int on_open(long ret, long dirfd, const char *name, __u32 flags, __u32 mode)
{
	struct file_rec fr;
	if (file_begin(&fr, VG_EV_OPEN, ret) < 0)
		return 0;
	fr.r->flags = flags;
	fr.r->mode = mode;
	if (ret >= 0) {
		append_str(fr.data, &fr.off, VG_DATA_HALF, &fr.r->file.name, name, VG_USER_PATH_MAX, 1);
		fill_fd(F_ARGS, ret, fr.t);
	} else {
		fill_name(F_ARGS, dirfd, name, 1, fr.t);
	}
	file_submit(&fr);
	return 0;
}

EXIT_PROG(open)
{
	struct vg_args a;
	sys_args(&a);
	return on_open(ctx->ret, AT_FDCWD, (const char *)a.a[0], a.a[1], a.a[2]);
}

EXIT_PROG(openat)
{
	struct vg_args a;
	sys_args(&a);
	return on_open(ctx->ret, a.a[0], (const char *)a.a[1], a.a[2], a.a[3]);
}

EXIT_PROG(openat2)
{
	struct vg_args a;
	struct open_how how = {};
	sys_args(&a);
	bpf_probe_read_user(&how, sizeof(how), (const void *)a.a[2]);
	return on_open(ctx->ret, a.a[0], (const char *)a.a[1], how.flags, how.mode);
}

EXIT_PROG(creat)
{
	struct vg_args a;
	sys_args(&a);
	return on_open(ctx->ret, AT_FDCWD, (const char *)a.a[0], O_CREAT | O_WRONLY | O_TRUNC, a.a[1]);
}

/* A call on a name (or on dirfd itself, see fill_at) with its scalar arguments. */
static __always_inline int on_named(__u32 type, long ret, long dirfd, const char *name, __u64 at_flags,
				    __u32 flags, __u32 mode, __s32 uid, __s32 gid, const char *xattr)
{
	struct file_rec fr;
	if (file_begin(&fr, type, ret) < 0)
		return 0;
	fr.r->flags = flags;
	fr.r->mode = mode;
	fr.r->uid = uid;
	fr.r->gid = gid;
	if (xattr)
		append_str(fr.data, &fr.off, VG_DATA_HALF, &fr.r->xattr, xattr, 256, 1);
	fill_at(F_ARGS, dirfd, name, at_flags, fr.t);
	file_submit(&fr);
	return 0;
}

/* A call on an open descriptor. */
static __always_inline int on_fd(__u32 type, long ret, long fd, __u32 mode, __s32 uid, __s32 gid,
				 const char *xattr)
{
	struct file_rec fr;
	if (file_begin(&fr, type, ret) < 0)
		return 0;
	fr.r->mode = mode;
	fr.r->uid = uid;
	fr.r->gid = gid;
	if (xattr)
		append_str(fr.data, &fr.off, VG_DATA_HALF, &fr.r->xattr, xattr, 256, 1);
	fill_fd(F_ARGS, fd, fr.t);
	file_submit(&fr);
	return 0;
}

#define ARGS            \
	struct vg_args a; \
	sys_args(&a)
#define S(i) ((const char *)a.a[i])

/* chmod */
EXIT_PROG(chmod) { ARGS; return on_named(VG_EV_CHMOD, ctx->ret, AT_FDCWD, S(0), 0, 0, a.a[1], 0, 0, 0); }
EXIT_PROG(fchmod) { ARGS; return on_fd(VG_EV_CHMOD, ctx->ret, a.a[0], a.a[1], 0, 0, 0); }
EXIT_PROG(fchmodat) { ARGS; return on_named(VG_EV_CHMOD, ctx->ret, a.a[0], S(1), 0, 0, a.a[2], 0, 0, 0); }
EXIT_PROG(fchmodat2) { ARGS; return on_named(VG_EV_CHMOD, ctx->ret, a.a[0], S(1), a.a[3], a.a[3], a.a[2], 0, 0, 0); }

/* chown */
EXIT_PROG(chown) { ARGS; return on_named(VG_EV_CHOWN, ctx->ret, AT_FDCWD, S(0), 0, 0, 0, a.a[1], a.a[2], 0); }
EXIT_PROG(lchown) { ARGS; return on_named(VG_EV_CHOWN, ctx->ret, AT_FDCWD, S(0), 0, AT_SYMLINK_NOFOLLOW, 0, a.a[1], a.a[2], 0); }
EXIT_PROG(fchown) { ARGS; return on_fd(VG_EV_CHOWN, ctx->ret, a.a[0], 0, a.a[1], a.a[2], 0); }
EXIT_PROG(fchownat) { ARGS; return on_named(VG_EV_CHOWN, ctx->ret, a.a[0], S(1), a.a[4], a.a[4], 0, a.a[2], a.a[3], 0); }

/* utimes */
EXIT_PROG(utime) { ARGS; return on_named(VG_EV_UTIMES, ctx->ret, AT_FDCWD, S(0), 0, 0, 0, 0, 0, 0); }
EXIT_PROG(utimes) { ARGS; return on_named(VG_EV_UTIMES, ctx->ret, AT_FDCWD, S(0), 0, 0, 0, 0, 0, 0); }
EXIT_PROG(futimesat) { ARGS; return on_named(VG_EV_UTIMES, ctx->ret, a.a[0], S(1), 0, 0, 0, 0, 0, 0); }
/* utimensat(fd, NULL, …) changes the times of fd itself: fill_at handles the NULL name */
EXIT_PROG(utimensat) { ARGS; return on_named(VG_EV_UTIMES, ctx->ret, a.a[0], S(1), a.a[3], a.a[3], 0, 0, 0, 0); }

/* setxattr / removexattr */
EXIT_PROG(setxattr) { ARGS; return on_named(VG_EV_SETXATTR, ctx->ret, AT_FDCWD, S(0), 0, 0, 0, 0, 0, S(1)); }
EXIT_PROG(lsetxattr) { ARGS; return on_named(VG_EV_SETXATTR, ctx->ret, AT_FDCWD, S(0), 0, AT_SYMLINK_NOFOLLOW, 0, 0, 0, S(1)); }
EXIT_PROG(fsetxattr) { ARGS; return on_fd(VG_EV_SETXATTR, ctx->ret, a.a[0], 0, 0, 0, S(1)); }
EXIT_PROG(setxattrat) { ARGS; return on_named(VG_EV_SETXATTR, ctx->ret, a.a[0], S(1), a.a[2], a.a[2], 0, 0, 0, S(3)); }
EXIT_PROG(removexattr) { ARGS; return on_named(VG_EV_REMOVEXATTR, ctx->ret, AT_FDCWD, S(0), 0, 0, 0, 0, 0, S(1)); }
EXIT_PROG(lremovexattr) { ARGS; return on_named(VG_EV_REMOVEXATTR, ctx->ret, AT_FDCWD, S(0), 0, AT_SYMLINK_NOFOLLOW, 0, 0, 0, S(1)); }
EXIT_PROG(fremovexattr) { ARGS; return on_fd(VG_EV_REMOVEXATTR, ctx->ret, a.a[0], 0, 0, 0, S(1)); }
EXIT_PROG(removexattrat) { ARGS; return on_named(VG_EV_REMOVEXATTR, ctx->ret, a.a[0], S(1), a.a[2], a.a[2], 0, 0, 0, S(3)); }

/* mkdir */
EXIT_PROG(mkdir) { ARGS; return on_named(VG_EV_MKDIR, ctx->ret, AT_FDCWD, S(0), 0, 0, a.a[1], 0, 0, 0); }
EXIT_PROG(mkdirat) { ARGS; return on_named(VG_EV_MKDIR, ctx->ret, a.a[0], S(1), 0, 0, a.a[2], 0, 0, 0); }

/* umount: the mount point by name */
EXIT_PROG(umount) { ARGS; return on_named(VG_EV_UMOUNT, ctx->ret, AT_FDCWD, S(0), 0, a.a[1], 0, 0, 0, 0); }

/* chdir: the new working directory itself when the call succeeded */
EXIT_PROG(chdir)
{
	struct file_rec fr;
	ARGS;
	if (file_begin(&fr, VG_EV_CHDIR, ctx->ret) < 0)
		return 0;
	if (ctx->ret == 0) {
		struct task_struct *t = fr.t;
		append_str(fr.data, &fr.off, VG_DATA_HALF, &fr.r->file.name, S(0), VG_USER_PATH_MAX, 1);
		fill_object(F_ARGS, BPF_CORE_READ(t, fs, pwd.dentry), BPF_CORE_READ(t, fs, pwd.mnt), t);
	} else {
		fill_name(F_ARGS, AT_FDCWD, S(0), 1, fr.t);
	}
	file_submit(&fr);
	return 0;
}

EXIT_PROG(fchdir) { ARGS; return on_fd(VG_EV_CHDIR, ctx->ret, a.a[0], 0, 0, 0, 0); }

/* ---- names resolved at entry: unlink, rmdir, rename ---- */

/* Keep the record assembled in the scratch buffer until the syscall returns. */
static __always_inline void keep(void *rec, __u32 size)
{
	struct vg_hdr *h = rec;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	h->size = size > VG_PENDING_SIZE ? VG_PENDING_SIZE : size;
	if (bpf_map_update_elem(&vg_pending, &tid, rec, BPF_ANY) < 0)
		count(h->type, 0);
}

/* Add the result to the record kept at entry and send it. */
static __always_inline int release(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u8 *p = bpf_map_lookup_elem(&vg_pending, &tid);
	if (!p)
		return 0;
	struct vg_hdr *h = (struct vg_hdr *)p;
	if (h->type == VG_EV_RENAME)
		((struct vg_rec_file2 *)p)->retval = ret;
	else
		((struct vg_rec_file *)p)->retval = ret;
	submit(p, h->size, VG_PENDING_SIZE);
	bpf_map_delete_elem(&vg_pending, &tid);
	return 0;
}

static __always_inline int enter_remove(__u32 type, long dirfd, const char *name, __u32 flags)
{
	if (!enabled(type) || is_self())
		return 0;
	__u8 *buf = scratch();
	if (!buf)
		return 0;
	struct vg_rec_file *r = (struct vg_rec_file *)buf;
	__u8 *data = buf + sizeof(*r);
	__u32 off = 0;
	struct task_struct *t = BEGIN(r, type);
	r->flags = flags;
	fill_name(data, &off, VG_PENDING_DATA, &r->file, dirfd, name, 1, t);
	keep(r, sizeof(*r) + off);
	return 0;
}

ENTER_PROG(unlink) { return enter_remove(VG_EV_UNLINK, AT_FDCWD, (const char *)ctx->args[0], 0); }
EXIT_PROG(unlink) { return release(ctx->ret); }
ENTER_PROG(rmdir) { return enter_remove(VG_EV_RMDIR, AT_FDCWD, (const char *)ctx->args[0], 0); }
EXIT_PROG(rmdir) { return release(ctx->ret); }
/* unlinkat(…, AT_REMOVEDIR) removes a directory: an rmdir event, as the kernel sees it */
ENTER_PROG(unlinkat)
{
	__u32 flags = ctx->args[2];
	__u32 type = (flags & AT_REMOVEDIR) ? VG_EV_RMDIR : VG_EV_UNLINK;
	return enter_remove(type, ctx->args[0], (const char *)ctx->args[1], flags);
}
EXIT_PROG(unlinkat) { return release(ctx->ret); }

/* ---- two names: rename (at entry), link and symlink (at exit), mount ---- */

struct file2_rec {
	struct vg_rec_file2 *r;
	__u8 *data;
	__u32 off;
	struct task_struct *t;
};

static __always_inline int file2_begin(struct file2_rec *fr, __u32 type, __u32 kind, __u64 flags)
{
	if (!enabled(type) || is_self())
		return -1;
	__u8 *buf = scratch();
	if (!buf)
		return -1;
	fr->r = (struct vg_rec_file2 *)buf;
	fr->data = buf + sizeof(struct vg_rec_file2);
	fr->off = 0;
	fr->t = BEGIN(fr->r, type);
	fr->r->kind = kind;
	fr->r->flags = flags;
	return 0;
}

static __always_inline int enter_rename(long olddfd, const char *oldname, long newdfd, const char *newname,
					__u64 flags)
{
	struct file2_rec fr;
	if (file2_begin(&fr, VG_EV_RENAME, VG_F2_RENAME, flags) < 0)
		return 0;
	fill_name(fr.data, &fr.off, VG_PENDING_DATA, &fr.r->src, olddfd, oldname, 1, fr.t);
	fill_name(fr.data, &fr.off, VG_PENDING_DATA, &fr.r->dst, newdfd, newname, 1, fr.t);
	keep(fr.r, sizeof(struct vg_rec_file2) + fr.off);
	return 0;
}

ENTER_PROG(rename)
{
	return enter_rename(AT_FDCWD, (const char *)ctx->args[0], AT_FDCWD, (const char *)ctx->args[1], 0);
}
EXIT_PROG(rename) { return release(ctx->ret); }
ENTER_PROG(renameat)
{
	return enter_rename(ctx->args[0], (const char *)ctx->args[1], ctx->args[2], (const char *)ctx->args[3], 0);
}
EXIT_PROG(renameat) { return release(ctx->ret); }
ENTER_PROG(renameat2)
{
	return enter_rename(ctx->args[0], (const char *)ctx->args[1], ctx->args[2], (const char *)ctx->args[3],
			    ctx->args[4]);
}
EXIT_PROG(renameat2) { return release(ctx->ret); }

static __always_inline int on_link(long ret, __u32 kind, long olddfd, const char *oldname, long newdfd,
				   const char *newname, __u64 flags)
{
	struct file2_rec fr;
	if (file2_begin(&fr, VG_EV_LINK, kind, flags) < 0)
		return 0;
	fr.r->retval = ret;
	if (kind == VG_F2_SYMLINK) {
		/* the target of a symlink is text, resolved only when the link is followed */
		append_str(fr.data, &fr.off, VG_DATA_HALF, &fr.r->src.name, oldname, VG_USER_PATH_MAX, 1);
	} else {
		fill_at(fr.data, &fr.off, VG_DATA_HALF, &fr.r->src, olddfd, oldname, flags, fr.t);
	}
	fill_name(fr.data, &fr.off, VG_DATA_HALF, &fr.r->dst, newdfd, newname, 1, fr.t);
	submit(fr.r, sizeof(struct vg_rec_file2) + fr.off, VG_SCRATCH_SIZE);
	return 0;
}

EXIT_PROG(link) { ARGS; return on_link(ctx->ret, VG_F2_HARDLINK, AT_FDCWD, S(0), AT_FDCWD, S(1), 0); }
EXIT_PROG(linkat) { ARGS; return on_link(ctx->ret, VG_F2_HARDLINK, a.a[0], S(1), a.a[2], S(3), a.a[4]); }
EXIT_PROG(symlink) { ARGS; return on_link(ctx->ret, VG_F2_SYMLINK, AT_FDCWD, S(0), AT_FDCWD, S(1), 0); }
EXIT_PROG(symlinkat) { ARGS; return on_link(ctx->ret, VG_F2_SYMLINK, AT_FDCWD, S(0), a.a[1], S(2), 0); }

EXIT_PROG(mount)
{
	struct file2_rec fr;
	ARGS;
	__u64 flags = a.a[3];
	if (file2_begin(&fr, VG_EV_MOUNT, VG_F2_MOUNT, flags) < 0)
		return 0;
	fr.r->retval = ctx->ret;
	if (flags & MS_BIND)
		fill_name(fr.data, &fr.off, VG_DATA_HALF, &fr.r->src, AT_FDCWD, S(0), 1, fr.t);
	else
		append_str(fr.data, &fr.off, VG_DATA_HALF, &fr.r->src.name, S(0), VG_USER_PATH_MAX, 1);
	fill_name(fr.data, &fr.off, VG_DATA_HALF, &fr.r->dst, AT_FDCWD, S(1), 1, fr.t);
	append_str(fr.data, &fr.off, VG_DATA_HALF, &fr.r->fstype, S(2), 256, 1);
	submit(fr.r, sizeof(struct vg_rec_file2) + fr.off, VG_SCRATCH_SIZE);
	return 0;
}

/* ---- splice: the file spliced and the flags of the pipe written to ---- */

static __always_inline __u32 pipe_last_flags(struct file *f)
{
	if (!f)
		return 0;
	__u16 mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & S_IFMT) != S_IFIFO)
		return 0;
	struct pipe_inode_info *pipe = BPF_CORE_READ(f, private_data);
	if (!pipe)
		return 0;
	unsigned int head = BPF_CORE_READ(pipe, head);
	unsigned int tail = BPF_CORE_READ(pipe, tail);
	unsigned int size = BPF_CORE_READ(pipe, ring_size);
	if (head == tail || size == 0)
		return 0;
	struct pipe_buffer *bufs = BPF_CORE_READ(pipe, bufs);
	return BPF_CORE_READ(&bufs[(head - 1) & (size - 1)], flags);
}

ENTER_PROG(splice)
{
	if (!enabled(VG_EV_SPLICE) || is_self())
		return 0;
	struct task_struct *t = bpf_get_current_task_btf();
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct vg_small s = {};
	s.a = pipe_last_flags(fd_file(t, ctx->args[2]));
	bpf_map_update_elem(&vg_small, &tid, &s, BPF_ANY);
	return 0;
}

EXIT_PROG(splice)
{
	ARGS;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct vg_small *s = bpf_map_lookup_elem(&vg_small, &tid);
	if (!s)
		return 0;
	__u32 entry = s->a;
	bpf_map_delete_elem(&vg_small, &tid);
	if (!enabled(VG_EV_SPLICE) || is_self())
		return 0;
	__u8 *buf = scratch();
	if (!buf)
		return 0;
	struct vg_rec_splice *r = (struct vg_rec_splice *)buf;
	__u8 *data = buf + sizeof(*r);
	__u32 off = 0;
	struct task_struct *t = BEGIN(r, VG_EV_SPLICE);
	r->retval = ctx->ret;
	r->pipe_entry_flag = entry;
	r->pipe_exit_flag = pipe_last_flags(fd_file(t, a.a[2]));
	fill_fd(data, &off, VG_DATA_HALF, &r->file, a.a[0], t);
	submit(r, sizeof(*r) + off, VG_SCRATCH_SIZE);
	return 0;
}
