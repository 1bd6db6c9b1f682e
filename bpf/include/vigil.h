/*
 * Records shared by the BPF programs (bpf/src) and their readers (probes/ebpf/layout.ts, the
 * benchmark's C consumer). This header holds what every record has: the event type ids, the
 * record header, the process context, strings, paths and files. One header per record family
 * follows (vigil_file.h, vigil_process.h, vigil_network.h, vigil_kernel.h).
 *
 * The includer provides __u8 … __u64 (vmlinux.h in BPF, <linux/types.h> in user space).
 * Every struct is laid out without implicit padding; probes/ebpf/layout.test.ts compares the
 * TypeScript offset table with the BTF of the compiled object, so a field added here and not
 * there (or the reverse) fails the tests.
 *
 * A record is its fixed struct followed by a data area; strings and paths in the fixed part
 * point into the data area (offsets relative to its start, which is sizeof the record struct).
 */
#ifndef VIGIL_H
#define VIGIL_H

enum vg_event_type {
	VG_EV_NONE = 0,
	VG_EV_OPEN = 1,
	VG_EV_CHMOD = 2,
	VG_EV_CHOWN = 3,
	VG_EV_UTIMES = 4,
	VG_EV_SETXATTR = 5,
	VG_EV_REMOVEXATTR = 6,
	VG_EV_MKDIR = 7,
	VG_EV_RMDIR = 8,
	VG_EV_UNLINK = 9,
	VG_EV_RENAME = 10,
	VG_EV_LINK = 11,
	VG_EV_CHDIR = 12,
	VG_EV_MOUNT = 13,
	VG_EV_UMOUNT = 14,
	VG_EV_SPLICE = 15,
	VG_EV_EXEC = 16,
	VG_EV_FORK = 17,
	VG_EV_EXIT = 18,
	VG_EV_SETUID = 19,
	VG_EV_SETGID = 20,
	VG_EV_CAPSET = 21,
	VG_EV_PTRACE = 22,
	VG_EV_SIGNAL = 23,
	VG_EV_PRCTL = 24,
	VG_EV_CONNECT = 25,
	VG_EV_BIND = 26,
	VG_EV_ACCEPT = 27,
	VG_EV_LOAD_MODULE = 28,
	VG_EV_UNLOAD_MODULE = 29,
	VG_EV_BPF = 30,
	VG_EV_MMAP = 31,
	VG_EV_MPROTECT = 32,
	VG_EV_MAX = 33,
};

#define VG_COMM_LEN 16
#define VG_FSTYPE_LEN 16

/* Data area: appends start below VG_DATA_HALF and copy at most VG_CHUNK_MAX bytes. */
#define VG_DATA_HALF 16384
#define VG_CHUNK_MAX 8192
#define VG_DATA_SIZE 24576 /* VG_DATA_HALF + VG_CHUNK_MAX: the furthest an append can reach */
/* Room reserved for the largest fixed record struct. */
#define VG_FIXED_MAX 512
/* Records built at syscall entry wait in a map until the exit; their data area is smaller. */
#define VG_PENDING_DATA 8192
/* Dentries walked for one path (mount crossings included). */
#define VG_PATH_DEPTH_MAX 48
/* User strings: paths and names passed to syscalls. */
#define VG_USER_PATH_MAX 4096
/* Upper bounds of the configurable argv / envp copies at exec. */
#define VG_ARGS_MAX 8192
#define VG_ENVS_MAX 8192

struct vg_hdr {
	__u16 type;  /* enum vg_event_type */
	__u16 flags; /* reserved, 0 */
	__u32 size;  /* bytes in the record, data area included */
	__u64 ts;    /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
};

/* Who did it, read from the task at the time of the event. */
struct vg_proc {
	__u64 cgroup_id;
	__u64 cap_effective;
	__u64 cap_permitted;
	__u32 pid; /* thread group id */
	__u32 tid;
	__u32 ppid; /* real parent's thread group id */
	__u32 uid;
	__u32 gid;
	__u32 euid;
	__u32 egid;
	__u32 fsuid;
	__u32 fsgid;
	__u32 auid; /* loginuid; 4294967295 when unset */
	char comm[VG_COMM_LEN];
};

struct vg_base {
	struct vg_hdr hdr;
	struct vg_proc proc;
};

/* A string in the data area: `len` bytes (no NUL counted) at `off`. */
struct vg_str {
	__u16 off;
	__u16 len;
};

/*
 * A path walked in the kernel: `depth` NUL-terminated names, leaf first, from `off`. The
 * reader reverses them. `flags` say how the walk ended.
 */
struct vg_path {
	__u16 off;
	__u16 len;
	__u16 depth;
	__u16 flags;
};

#define VG_PATH_ROOT 0x01      /* reached the process root: complete */
#define VG_PATH_TOP 0x02       /* reached the top of a mount tree that is not the process root */
#define VG_PATH_INTERNAL 0x04  /* on a kernel-internal mount (pipe, socket, anon inode) */
#define VG_PATH_DETACHED 0x08  /* dentry or mount not attached to any tree */
#define VG_PATH_TOO_DEEP 0x10  /* more than VG_PATH_DEPTH_MAX components */
#define VG_PATH_NO_SPACE 0x20  /* data area full */
#define VG_PATH_READ_ERR 0x40  /* a kernel read failed */
#define VG_PATH_ABSOLUTE 0x80  /* not walked: the name is absolute */

/* What a vg_file holds. */
#define VG_FILE_NONE 0   /* nothing (e.g. anonymous mmap) */
#define VG_FILE_OBJECT 1 /* the file itself: path walked from its dentry, inode fields valid */
#define VG_FILE_NAME 2   /* a name: `name` relative to the directory walked in `path` */

struct vg_file {
	__u64 ino;
	__s64 mtime_sec;
	__s64 ctime_sec;
	__u32 mtime_nsec;
	__u32 ctime_nsec;
	__u32 mount_id;
	__u32 mode;
	__u32 uid;
	__u32 gid;
	__u32 kind; /* VG_FILE_* */
	__u32 _pad;
	struct vg_path path;
	struct vg_str name; /* the name passed to the syscall, when there is one */
	__u32 _pad2;
	char fstype[VG_FSTYPE_LEN];
};

/* Counter slots per event type: a power of two above VG_EV_MAX, so a mask bounds the index. */
#define VG_EV_SLOTS 64

/* Kernel-side counters, one copy per CPU (a per-CPU array with one element). */
struct vg_counters {
	__u64 sent[VG_EV_SLOTS]; /* records written to the ring */
	__u64 lost[VG_EV_SLOTS]; /* records dropped: ring full, or no room to keep a syscall entry */
};

#endif
