/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Process events: exec, fork, exit (scheduler raw tracepoints, which see the task and binprm
 * objects), credential changes, ptrace, signals and prctl (syscall exits).
 */
#include "common.h"

/*
 * exec: after the new image is installed. `bprm->file` is what runs: for a #! script that is
 * the interpreter (binfmt_script swapped it), and `bprm->interp` then differs from
 * `bprm->filename`, so the script itself is reported by name.
 */
SEC("raw_tracepoint/sched_process_exec")
int vg_exec(struct bpf_raw_tracepoint_args *ctx)
{
	RECORD(vg_rec_exec, VG_EV_EXEC);
	struct linux_binprm *bprm = (struct linux_binprm *)ctx->args[2];

	const char *filename = BPF_CORE_READ(bprm, filename);
	const char *interp = BPF_CORE_READ(bprm, interp);
	struct file *file = BPF_CORE_READ(bprm, file);
	append_str(data, &off, VG_DATA_HALF, &r->filename, filename, VG_USER_PATH_MAX, 0);
	if (interp != filename) {
		fill_name(data, &off, VG_DATA_HALF, &r->file, AT_FDCWD, filename, 0, t);
		fill_file(data, &off, VG_DATA_HALF, &r->interpreter, file, t);
	} else {
		fill_file(data, &off, VG_DATA_HALF, &r->file, file, t);
	}

	r->argc = BPF_CORE_READ(bprm, argc);
	r->envc = BPF_CORE_READ(bprm, envc);
	r->start_time = BPF_CORE_READ(t, start_time);
	struct mm_struct *mm = BPF_CORE_READ(t, mm);
	__u64 arg_start = BPF_CORE_READ(mm, arg_start), arg_end = BPF_CORE_READ(mm, arg_end);
	__u64 env_start = BPF_CORE_READ(mm, env_start), env_end = BPF_CORE_READ(mm, env_end);
	__u64 args_len = arg_end > arg_start ? arg_end - arg_start : 0;
	__u64 envs_len = env_end > env_start ? env_end - env_start : 0;
	__u32 args_max = vg_args_max < VG_ARGS_MAX ? vg_args_max : VG_ARGS_MAX;
	__u32 envs_max = vg_envs_max < VG_ENVS_MAX ? vg_envs_max : VG_ENVS_MAX;
	__u64 args_want = args_len < args_max ? args_len : args_max;
	__u64 envs_want = envs_len < envs_max ? envs_len : envs_max;
	if (append_user_bytes(data, &off, VG_DATA_HALF, &r->args, (const void *)arg_start, args_want, VG_ARGS_MAX) <
		    args_want ||
	    args_len > args_want)
		r->flags |= VG_EXEC_ARGS_TRUNCATED;
	if (append_user_bytes(data, &off, VG_DATA_HALF, &r->envs, (const void *)env_start, envs_want, VG_ENVS_MAX) <
		    envs_want ||
	    envs_len > envs_want)
		r->flags |= VG_EXEC_ENVS_TRUNCATED;
	SEND();
	return 0;
}

/* fork / clone: in the parent, with the child's task. */
SEC("raw_tracepoint/sched_process_fork")
int vg_fork(struct bpf_raw_tracepoint_args *ctx)
{
	__u8 *buf = record_buffer(VG_EV_FORK);
	if (!buf)
		return 0;
	struct task_struct *parent = (struct task_struct *)ctx->args[0];
	struct task_struct *child = (struct task_struct *)ctx->args[1];
	struct vg_rec_fork *r = (struct vg_rec_fork *)buf;
	__builtin_memset(r, 0, sizeof(*r));
	r->base.hdr.type = VG_EV_FORK;
	r->base.hdr.ts = bpf_ktime_get_ns();
	fill_proc_task(&r->base.proc, child);
	r->parent_pid = BPF_CORE_READ(parent, tgid);
	r->parent_tid = BPF_CORE_READ(parent, pid);
	r->is_thread = r->base.proc.pid == r->parent_pid;
	r->start_time = BPF_CORE_READ(child, start_time);
	submit(r, sizeof(*r), VG_SCRATCH_SIZE);
	return 0;
}

/* exit: once per process, when its last thread exits. */
SEC("raw_tracepoint/sched_process_exit")
int vg_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	RECORD(vg_rec_exit, VG_EV_EXIT);
	r->exit_code = BPF_CORE_READ(t, exit_code);
	r->start_time = BPF_CORE_READ(t, start_time);
	SEND();
	return 0;
}

/* setuid, setgid, capset: sent when the call succeeded, with the credentials it installed. */
static __always_inline int on_cred(__u32 type, long ret, int always)
{
	if (ret != 0 && !always)
		return 0;
	RECORD(vg_rec_cred, type);
	r->retval = ret;
	SEND();
	return 0;
}

EXIT_PROG(setuid) { return on_cred(VG_EV_SETUID, ctx->ret, 0); }
EXIT_PROG(setreuid) { return on_cred(VG_EV_SETUID, ctx->ret, 0); }
EXIT_PROG(setresuid) { return on_cred(VG_EV_SETUID, ctx->ret, 0); }
/* setfsuid returns the previous fsuid, never an error */
EXIT_PROG(setfsuid) { return on_cred(VG_EV_SETUID, ctx->ret, 1); }
EXIT_PROG(setgid) { return on_cred(VG_EV_SETGID, ctx->ret, 0); }
EXIT_PROG(setregid) { return on_cred(VG_EV_SETGID, ctx->ret, 0); }
EXIT_PROG(setresgid) { return on_cred(VG_EV_SETGID, ctx->ret, 0); }
EXIT_PROG(setfsgid) { return on_cred(VG_EV_SETGID, ctx->ret, 1); }
EXIT_PROG(capset) { return on_cred(VG_EV_CAPSET, ctx->ret, 0); }

EXIT_PROG(ptrace)
{
	EXIT_RECORD(vg_rec_ptrace, VG_EV_PTRACE);
	ARGS;
	r->request = a.a[0];
	r->pid = a.a[0] == PTRACE_TRACEME ? r->base.proc.pid : (__u32)a.a[1];
	r->addr = a.a[2];
	SEND();
	return 0;
}

static __always_inline int on_signal(long ret, __s32 pid, __u32 sig)
{
	RECORD(vg_rec_signal, VG_EV_SIGNAL);
	r->retval = ret;
	r->pid = pid;
	r->sig = sig;
	SEND();
	return 0;
}

EXIT_PROG(kill) { ARGS; return on_signal(ctx->ret, a.a[0], a.a[1]); }
EXIT_PROG(tkill) { ARGS; return on_signal(ctx->ret, a.a[0], a.a[1]); }
EXIT_PROG(tgkill) { ARGS; return on_signal(ctx->ret, a.a[0], a.a[2]); }

EXIT_PROG(prctl)
{
	EXIT_RECORD(vg_rec_prctl, VG_EV_PRCTL);
	ARGS;
	r->option = a.a[0];
	if (a.a[0] == PR_SET_NAME) {
		/* the kernel keeps 15 bytes; read more to tell whether the name was cut */
		append_str(data, &off, VG_DATA_HALF, &r->name, (const void *)a.a[1], 64, 1);
		if (r->name.len > VG_COMM_LEN - 1) {
			r->name_truncated = 1;
			off -= r->name.len - (VG_COMM_LEN - 1);
			r->name.len = VG_COMM_LEN - 1;
		}
	}
	SEND();
	return 0;
}
