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

/* The data area of the record started by RECORD, and the file in it. */
#define F_ARGS data, &off, VG_DATA_HALF, &r->file
#define S(i) ((const char *)a.a[i])

/* open: the opened file when the call succeeded, else the name it was given. */
static __always_inline int on_open(long ret, long dirfd, const char *name, __u32 flags, __u32 mode)
{
	RECORD(vg_rec_file, VG_EV_OPEN);
	r->retval = ret;
	r->flags = flags;
	r->mode = mode;
	if (ret >= 0) {
		append_str(data, &off, VG_DATA_HALF, &r->file.name, name, VG_USER_PATH_MAX, 1);
		fill_fd(F_ARGS, ret, t);
	} else {
		fill_name(F_ARGS, dirfd, name, 1, t);
	}
	SEND();
	return 0;
}

EXIT_PROG(open) { ARGS; return on_open(ctx->ret, AT_FDCWD, S(0), a.a[1], a.a[2]); }
EXIT_PROG(openat) { ARGS; return on_open(ctx->ret, a.a[0], S(1), a.a[2], a.a[3]); }

EXIT_PROG(openat2)
{
	struct open_how how = {};
	ARGS;
	bpf_probe_read_user(&how, sizeof(how), (const void *)a.a[2]);
	return on_open(ctx->ret, a.a[0], S(1), how.flags, how.mode);
}

EXIT_PROG(creat) { ARGS; return on_open(ctx->ret, AT_FDCWD, S(0), O_CREAT | O_WRONLY | O_TRUNC, a.a[1]); }

/* A call on a name (or on dirfd itself, see fill_at) with its scalar arguments. */
static __always_inline int on_named(__u32 type, long ret, long dirfd, const char *name, __u64 at_flags,
				    __u32 flags, __u32 mode, __s32 uid, __s32 gid, const char *xattr)
{
	RECORD(vg_rec_file, type);
	r->retval = ret;
	r->flags = flags;
	r->mode = mode;
	r->uid = uid;
	r->gid = gid;
	if (xattr)
		append_str(data, &off, VG_DATA_HALF, &r->xattr, xattr, 256, 1);
	fill_at(F_ARGS, dirfd, name, at_flags, t);
	SEND();
	return 0;
}

/* A call on an open descriptor: with no name, fill_at takes the descriptor's own file. */
static __always_inline int on_fd(__u32 type, long ret, long fd, __u32 mode, __s32 uid, __s32 gid,
				 const char *xattr)
{
	return on_named(type, ret, fd, NULL, 0, 0, mode, uid, gid, xattr);
}

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
	EXIT_RECORD(vg_rec_file, VG_EV_CHDIR);
	ARGS;
	if (ctx->ret == 0) {
		append_str(data, &off, VG_DATA_HALF, &r->file.name, S(0), VG_USER_PATH_MAX, 1);
		fill_object(F_ARGS, BPF_CORE_READ(t, fs, pwd.dentry), BPF_CORE_READ(t, fs, pwd.mnt), t);
	} else {
		fill_name(F_ARGS, AT_FDCWD, S(0), 1, t);
	}
	SEND();
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
	RECORD(vg_rec_file, type);
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

static __always_inline int enter_rename(long olddfd, const char *oldname, long newdfd, const char *newname,
					__u64 flags)
{
	RECORD(vg_rec_file2, VG_EV_RENAME);
	r->kind = VG_F2_RENAME;
	r->flags = flags;
	fill_name(data, &off, VG_PENDING_DATA, &r->src, olddfd, oldname, 1, t);
	fill_name(data, &off, VG_PENDING_DATA, &r->dst, newdfd, newname, 1, t);
	keep(r, sizeof(*r) + off);
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
	RECORD(vg_rec_file2, VG_EV_LINK);
	r->retval = ret;
	r->kind = kind;
	r->flags = flags;
	if (kind == VG_F2_SYMLINK) {
		/* the target of a symlink is text, resolved only when the link is followed */
		append_str(data, &off, VG_DATA_HALF, &r->src.name, oldname, VG_USER_PATH_MAX, 1);
	} else {
		fill_at(data, &off, VG_DATA_HALF, &r->src, olddfd, oldname, flags, t);
	}
	fill_name(data, &off, VG_DATA_HALF, &r->dst, newdfd, newname, 1, t);
	SEND();
	return 0;
}

EXIT_PROG(link) { ARGS; return on_link(ctx->ret, VG_F2_HARDLINK, AT_FDCWD, S(0), AT_FDCWD, S(1), 0); }
EXIT_PROG(linkat) { ARGS; return on_link(ctx->ret, VG_F2_HARDLINK, a.a[0], S(1), a.a[2], S(3), a.a[4]); }
EXIT_PROG(symlink) { ARGS; return on_link(ctx->ret, VG_F2_SYMLINK, AT_FDCWD, S(0), AT_FDCWD, S(1), 0); }
EXIT_PROG(symlinkat) { ARGS; return on_link(ctx->ret, VG_F2_SYMLINK, AT_FDCWD, S(0), a.a[1], S(2), 0); }

EXIT_PROG(mount)
{
	ARGS;
	__u64 flags = a.a[3];
	EXIT_RECORD(vg_rec_file2, VG_EV_MOUNT);
	r->kind = VG_F2_MOUNT;
	r->flags = flags;
	if (flags & MS_BIND)
		fill_name(data, &off, VG_DATA_HALF, &r->src, AT_FDCWD, S(0), 1, t);
	else
		append_str(data, &off, VG_DATA_HALF, &r->src.name, S(0), VG_USER_PATH_MAX, 1);
	fill_name(data, &off, VG_DATA_HALF, &r->dst, AT_FDCWD, S(1), 1, t);
	append_str(data, &off, VG_DATA_HALF, &r->fstype, S(2), 256, 1);
	SEND();
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
	save_for_exit(pipe_last_flags(fd_file(bpf_get_current_task_btf(), ctx->args[2])));
	return 0;
}

EXIT_PROG(splice)
{
	ARGS;
	__u64 entry;
	if (!take_saved(&entry))
		return 0;
	EXIT_RECORD(vg_rec_splice, VG_EV_SPLICE);
	r->pipe_entry_flag = entry;
	r->pipe_exit_flag = pipe_last_flags(fd_file(t, a.a[2]));
	fill_fd(data, &off, VG_DATA_HALF, &r->file, a.a[0], t);
	SEND();
	return 0;
}
