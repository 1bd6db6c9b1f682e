/* Network records: connect, bind, accept. See vigil.h. */
#ifndef VIGIL_NETWORK_H
#define VIGIL_NETWORK_H

#include "vigil.h"

struct vg_rec_net {
	struct vg_base base;
	__s64 retval;
	__u16 family;   /* AF_INET, AF_INET6, AF_UNIX… */
	__u16 port;     /* host byte order */
	__u16 protocol; /* IPPROTO_* of the socket */
	__u16 _pad;
	__u8 addr[16];  /* IPv4 in the first 4 bytes, or IPv6, network byte order */
	struct vg_str unix_path; /* AF_UNIX: sun_path (abstract names start with a NUL) */
	__u32 _pad2;
};

#endif
