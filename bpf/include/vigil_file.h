/*
 * File records: one file (open, chmod, chown, utimes, mkdir, rmdir, unlink, chdir, umount,
 * setxattr, removexattr), two files (rename, link, mount) and splice. See vigil.h.
 */
#ifndef VIGIL_FILE_H
#define VIGIL_FILE_H

#include "vigil.h"

struct vg_rec_file {
	struct vg_base base;
	struct vg_file file;
	__s64 retval;
	__u32 flags; /* open: flags; unlink: flags; umount: flags */
	__u32 mode;  /* open (with O_CREAT), mkdir, chmod: mode argument */
	__s32 uid;   /* chown: uid argument (-1: unchanged) */
	__s32 gid;   /* chown: gid argument */
	struct vg_str xattr; /* setxattr, removexattr: attribute name */
	__u32 _pad;
};

/* Kinds of vg_rec_file2. */
#define VG_F2_RENAME 0
#define VG_F2_HARDLINK 1
#define VG_F2_SYMLINK 2 /* src.name is the link's target text, never walked */
#define VG_F2_MOUNT 3   /* src: source (walked for bind mounts), dst: mount point */

struct vg_rec_file2 {
	struct vg_base base;
	struct vg_file src;
	struct vg_file dst;
	__s64 retval;
	__u64 flags; /* renameat2, linkat, mount flags */
	__u32 kind;  /* VG_F2_* */
	struct vg_str fstype; /* mount: file system type argument */
};

struct vg_rec_splice {
	struct vg_base base;
	struct vg_file file; /* fd_in */
	__s64 retval;
	__u32 pipe_entry_flag; /* flags of fd_out's last pipe buffer, before */
	__u32 pipe_exit_flag;  /* and after */
};

#endif
