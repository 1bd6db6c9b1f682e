/*
 * Process records: exec, fork, exit, credential changes, ptrace, signals, prctl. See vigil.h.
 */
#ifndef VIGIL_PROCESS_H
#define VIGIL_PROCESS_H

#include "vigil.h"

#define VG_EXEC_ARGS_TRUNCATED 1 /* the argument area was longer than the copy */
#define VG_EXEC_ENVS_TRUNCATED 2

struct vg_rec_exec {
	struct vg_base base; /* the new image: creds and comm after exec */
	struct vg_file file; /* the executable; for a #! script, the script (by name) */
	struct vg_file interpreter; /* for a #! script: the interpreter that runs it */
	struct vg_str filename; /* the path given to execve */
	struct vg_str args; /* the argument area, NUL-separated (argv0 first) */
	struct vg_str envs; /* the environment area, NUL-separated */
	__u32 argc;
	__u32 envc;
	__u32 flags; /* VG_EXEC_* */
	__u32 _pad;
	__u64 start_time; /* task start, CLOCK_MONOTONIC ns */
};

struct vg_rec_fork {
	struct vg_base base; /* the child */
	__u64 start_time;
	__u32 parent_pid; /* thread group id of the task that called fork/clone */
	__u32 parent_tid;
	__u32 is_thread; /* the child shares its parent's thread group (CLONE_THREAD) */
	__u32 _pad;
};

struct vg_rec_exit {
	struct vg_base base; /* the last thread of the group */
	__u32 exit_code; /* raw wait status: code << 8, or signal | 0x80 for a core dump */
	__u32 _pad;
	__u64 start_time;
};

/* setuid, setgid, capset: the new credentials are in base.proc. */
struct vg_rec_cred {
	struct vg_base base;
	__s64 retval;
};

struct vg_rec_ptrace {
	struct vg_base base;
	__s64 retval;
	__s64 request;
	__u64 addr;
	__u32 pid; /* tracee as given (the caller itself for PTRACE_TRACEME) */
	__u32 _pad;
};

struct vg_rec_signal {
	struct vg_base base;
	__s64 retval;
	__s32 pid; /* target as given: a pid, a tid (tkill) or a process group (<= 0) */
	__u32 sig;
};

struct vg_rec_prctl {
	struct vg_base base;
	__s64 retval;
	__s32 option;
	__u32 name_truncated;
	struct vg_str name; /* PR_SET_NAME: the new name */
	__u32 _pad;
};

#endif
