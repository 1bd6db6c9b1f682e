/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Network events: connect and bind (the address passed to the call), accept (the peer of the
 * accepted connection, read from its socket).
 */
#include "common.h"

static __always_inline struct sock *fd_sock(struct task_struct *t, long fd)
{
	struct file *f = fd_file(t, fd);
	if (!f)
		return NULL;
	struct socket *sock = BPF_CORE_READ(f, private_data);
	if (!sock)
		return NULL;
	return BPF_CORE_READ(sock, sk);
}

/* connect / bind: the socket address given to the call. */
static __always_inline int on_sockaddr(__u32 type, long ret, long fd, const void *uaddr, __u64 addrlen)
{
	RECORD(vg_rec_net, type);
	r->retval = ret;
	struct sock *sk = fd_sock(t, fd);
	if (sk)
		r->protocol = BPF_CORE_READ(sk, sk_protocol);
	__u16 family = 0;
	bpf_probe_read_user(&family, sizeof(family), uaddr);
	r->family = family;
	if (family == AF_INET) {
		struct sockaddr_in sin = {};
		bpf_probe_read_user(&sin, sizeof(sin), uaddr);
		r->port = bpf_ntohs(sin.sin_port);
		__builtin_memcpy(r->addr, &sin.sin_addr, 4);
	} else if (family == AF_INET6) {
		struct sockaddr_in6 sin6 = {};
		bpf_probe_read_user(&sin6, sizeof(sin6), uaddr);
		r->port = bpf_ntohs(sin6.sin6_port);
		__builtin_memcpy(r->addr, &sin6.sin6_addr, 16);
	} else if (family == AF_UNIX && addrlen > 2) {
		/* sun_path is not always NUL-terminated (abstract names never are): copy its length */
		__u64 n = addrlen - 2;
		append_user_bytes(data, &off, VG_DATA_HALF, &r->unix_path, (const __u8 *)uaddr + 2, n, 108);
	}
	SEND();
	return 0;
}

EXIT_PROG(connect) { ARGS; return on_sockaddr(VG_EV_CONNECT, ctx->ret, a.a[0], (const void *)a.a[1], a.a[2]); }
EXIT_PROG(bind) { ARGS; return on_sockaddr(VG_EV_BIND, ctx->ret, a.a[0], (const void *)a.a[1], a.a[2]); }

/* accept: the peer of the new connection, or the listening socket's family on failure. */
static __always_inline int on_accept(long ret, long fd)
{
	RECORD(vg_rec_net, VG_EV_ACCEPT);
	r->retval = ret;
	struct sock *sk = fd_sock(t, ret >= 0 ? ret : fd);
	if (sk) {
		r->protocol = BPF_CORE_READ(sk, sk_protocol);
		r->family = BPF_CORE_READ(sk, __sk_common.skc_family);
		if (ret >= 0 && r->family == AF_INET) {
			__u32 daddr = BPF_CORE_READ(sk, __sk_common.skc_daddr);
			__builtin_memcpy(r->addr, &daddr, 4);
			r->port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		} else if (ret >= 0 && r->family == AF_INET6) {
			BPF_CORE_READ_INTO(&r->addr, sk, __sk_common.skc_v6_daddr);
			r->port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		}
	}
	SEND();
	return 0;
}

EXIT_PROG(accept) { ARGS; return on_accept(ctx->ret, a.a[0]); }
EXIT_PROG(accept4) { ARGS; return on_accept(ctx->ret, a.a[0]); }
