/**
 * @module The kernel record layouts as TypeScript sees them: byte offset and size of every member
 * of every struct in `bpf/include/*.h`, the event type ids, and the `#define` constants the
 * decoder needs.
 *
 * The C headers are the definition; this file mirrors them, and `layout.test.ts` compares it
 * with the BTF of the compiled object (struct sizes, member names, offsets and sizes, enum
 * values) and with the headers' `#define`s, so a change on one side fails the tests until the
 * other follows.
 *
 * When to use: the decoder reads offsets from here; nothing else should hard-code one.
 */

/** `[offset, size]` in bytes. */
export type Member = readonly [offset: number, size: number];
export interface StructLayout {
	readonly size: number;
	readonly members: Readonly<Record<string, Member>>;
}

export const STRUCTS = {
	vg_hdr: { size: 16, members: { type: [0, 2], flags: [2, 2], size: [4, 4], ts: [8, 8] } },
	vg_proc: {
		size: 80,
		members: {
			cgroup_id: [0, 8],
			cap_effective: [8, 8],
			cap_permitted: [16, 8],
			pid: [24, 4],
			tid: [28, 4],
			ppid: [32, 4],
			uid: [36, 4],
			gid: [40, 4],
			euid: [44, 4],
			egid: [48, 4],
			fsuid: [52, 4],
			fsgid: [56, 4],
			auid: [60, 4],
			comm: [64, 16],
		},
	},
	vg_base: { size: 96, members: { hdr: [0, 16], proc: [16, 80] } },
	vg_str: { size: 4, members: { off: [0, 2], len: [2, 2] } },
	vg_path: { size: 8, members: { off: [0, 2], len: [2, 2], depth: [4, 2], flags: [6, 2] } },
	vg_file: {
		size: 88,
		members: {
			ino: [0, 8],
			mtime_sec: [8, 8],
			ctime_sec: [16, 8],
			mtime_nsec: [24, 4],
			ctime_nsec: [28, 4],
			mount_id: [32, 4],
			mode: [36, 4],
			uid: [40, 4],
			gid: [44, 4],
			kind: [48, 4],
			_pad: [52, 4],
			path: [56, 8],
			name: [64, 4],
			_pad2: [68, 4],
			fstype: [72, 16],
		},
	},
	vg_counters: { size: 1024, members: { sent: [0, 512], lost: [512, 512] } },
	vg_rec_file: {
		size: 216,
		members: {
			base: [0, 96],
			file: [96, 88],
			retval: [184, 8],
			flags: [192, 4],
			mode: [196, 4],
			uid: [200, 4],
			gid: [204, 4],
			xattr: [208, 4],
			_pad: [212, 4],
		},
	},
	vg_rec_file2: {
		size: 296,
		members: {
			base: [0, 96],
			src: [96, 88],
			dst: [184, 88],
			retval: [272, 8],
			flags: [280, 8],
			kind: [288, 4],
			fstype: [292, 4],
		},
	},
	vg_rec_splice: {
		size: 200,
		members: {
			base: [0, 96],
			file: [96, 88],
			retval: [184, 8],
			pipe_entry_flag: [192, 4],
			pipe_exit_flag: [196, 4],
		},
	},
	vg_rec_exec: {
		size: 312,
		members: {
			base: [0, 96],
			file: [96, 88],
			interpreter: [184, 88],
			filename: [272, 4],
			args: [276, 4],
			envs: [280, 4],
			argc: [284, 4],
			envc: [288, 4],
			flags: [292, 4],
			_pad: [296, 4],
			start_time: [304, 8],
		},
	},
	vg_rec_fork: {
		size: 120,
		members: {
			base: [0, 96],
			start_time: [96, 8],
			parent_pid: [104, 4],
			parent_tid: [108, 4],
			is_thread: [112, 4],
			_pad: [116, 4],
		},
	},
	vg_rec_exit: {
		size: 112,
		members: { base: [0, 96], exit_code: [96, 4], _pad: [100, 4], start_time: [104, 8] },
	},
	vg_rec_cred: { size: 104, members: { base: [0, 96], retval: [96, 8] } },
	vg_rec_ptrace: {
		size: 128,
		members: {
			base: [0, 96],
			retval: [96, 8],
			request: [104, 8],
			addr: [112, 8],
			pid: [120, 4],
			_pad: [124, 4],
		},
	},
	vg_rec_signal: { size: 112, members: { base: [0, 96], retval: [96, 8], pid: [104, 4], sig: [108, 4] } },
	vg_rec_prctl: {
		size: 120,
		members: {
			base: [0, 96],
			retval: [96, 8],
			option: [104, 4],
			name_truncated: [108, 4],
			name: [112, 4],
			_pad: [116, 4],
		},
	},
	vg_rec_net: {
		size: 136,
		members: {
			base: [0, 96],
			retval: [96, 8],
			family: [104, 2],
			port: [106, 2],
			protocol: [108, 2],
			_pad: [110, 2],
			addr: [112, 16],
			unix_path: [128, 4],
			_pad2: [132, 4],
		},
	},
	vg_rec_module: {
		size: 208,
		members: {
			base: [0, 96],
			file: [96, 88],
			retval: [184, 8],
			name: [192, 4],
			args: [196, 4],
			from_memory: [200, 4],
			_pad: [204, 4],
		},
	},
	vg_rec_bpf: {
		size: 192,
		members: {
			base: [0, 96],
			retval: [96, 8],
			cmd: [104, 4],
			prog_type: [108, 4],
			map_type: [112, 4],
			attach_type: [116, 4],
			prog_name: [120, 16],
			map_name: [136, 16],
			prog_tag: [152, 8],
			helpers: [160, 32],
		},
	},
	vg_rec_mmap: {
		size: 224,
		members: {
			base: [0, 96],
			file: [96, 88],
			retval: [184, 8],
			addr: [192, 8],
			len: [200, 8],
			prot: [208, 4],
			flags: [212, 4],
			vm_flags: [216, 8],
		},
	},
} as const satisfies Record<string, StructLayout>;

export type StructName = keyof typeof STRUCTS;

/** `enum vg_event_type` (bpf/include/vigil.h). */
export const EVENT_IDS = {
	VG_EV_NONE: 0,
	VG_EV_OPEN: 1,
	VG_EV_CHMOD: 2,
	VG_EV_CHOWN: 3,
	VG_EV_UTIMES: 4,
	VG_EV_SETXATTR: 5,
	VG_EV_REMOVEXATTR: 6,
	VG_EV_MKDIR: 7,
	VG_EV_RMDIR: 8,
	VG_EV_UNLINK: 9,
	VG_EV_RENAME: 10,
	VG_EV_LINK: 11,
	VG_EV_CHDIR: 12,
	VG_EV_MOUNT: 13,
	VG_EV_UMOUNT: 14,
	VG_EV_SPLICE: 15,
	VG_EV_EXEC: 16,
	VG_EV_FORK: 17,
	VG_EV_EXIT: 18,
	VG_EV_SETUID: 19,
	VG_EV_SETGID: 20,
	VG_EV_CAPSET: 21,
	VG_EV_PTRACE: 22,
	VG_EV_SIGNAL: 23,
	VG_EV_PRCTL: 24,
	VG_EV_CONNECT: 25,
	VG_EV_BIND: 26,
	VG_EV_ACCEPT: 27,
	VG_EV_LOAD_MODULE: 28,
	VG_EV_UNLOAD_MODULE: 29,
	VG_EV_BPF: 30,
	VG_EV_MMAP: 31,
	VG_EV_MPROTECT: 32,
	VG_EV_MAX: 33,
} as const;

/** `#define`s of the headers that the reader depends on. */
export const DEFINES = {
	VG_COMM_LEN: 16,
	VG_FSTYPE_LEN: 16,
	VG_EV_SLOTS: 64,
	VG_PATH_DEPTH_MAX: 48,
	VG_PATH_ROOT: 0x01,
	VG_PATH_TOP: 0x02,
	VG_PATH_INTERNAL: 0x04,
	VG_PATH_DETACHED: 0x08,
	VG_PATH_TOO_DEEP: 0x10,
	VG_PATH_NO_SPACE: 0x20,
	VG_PATH_READ_ERR: 0x40,
	VG_PATH_ABSOLUTE: 0x80,
	VG_FILE_NONE: 0,
	VG_FILE_OBJECT: 1,
	VG_FILE_NAME: 2,
	VG_F2_RENAME: 0,
	VG_F2_HARDLINK: 1,
	VG_F2_SYMLINK: 2,
	VG_F2_MOUNT: 3,
	VG_EXEC_ARGS_TRUNCATED: 1,
	VG_EXEC_ENVS_TRUNCATED: 2,
	VG_BPF_HELPER_WORDS: 4,
	VG_ARGS_MAX: 8192,
	VG_ENVS_MAX: 8192,
	VG_FIXED_MAX: 512,
	VG_DATA_SIZE: 24576,
} as const;

/** Absolute offset of `member` in `struct`, for the decoder's constants. */
export const at = <S extends StructName>(struct: S, member: keyof (typeof STRUCTS)[S]["members"]): number =>
	(STRUCTS[struct].members as Record<string, Member>)[member as string]![0];
