/* nl.h — kernel-xfrm's internal plumbing: the handle, request/ACK exchange
 * with extended-ACK text, message builders (exposed here so unit tests can
 * check them byte by byte) and conversions between our structs and
 * linux/xfrm.h's.  Not part of the public API. */
#ifndef PVPN_KERNEL_XFRM_NL_H
#define PVPN_KERNEL_XFRM_NL_H

#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <libmnl/libmnl.h>

#include "kernel-xfrm/xfrm.h"
#include "lib/reader.h"

/* Skip the padding that aligns a netlink item of len bytes to 4, or what
 * is left when the last item of a message is not padded. */
static inline void nl_skip_pad(struct reader *r, size_t len)
{
	size_t pad = (4 - (len & 3)) & 3;
	rd_skip(r, pad < rd_left(r) ? pad : rd_left(r));
}

struct xfrm_handle {
	struct mnl_socket *xfrm;        /* NETLINK_XFRM */
	struct mnl_socket *rt;          /* NETLINK_ROUTE */
	uint32_t seq;
};

/* What the kernel said in its NLMSG_ERROR: code (0 = ACK) and the
 * extended-ACK text, if any. */
struct nl_ack {
	int code;
	char msg[128];
};

/* Room for any request we build (SA with three algorithms and keys). */
#define NL_BUF_SIZE 4096

/* Open a netlink socket of `bus` with NETLINK_EXT_ACK and NETLINK_CAP_ACK
 * (so errors never echo our request, which may hold keys, back to us). */
int nl_open(int bus, struct mnl_socket **out, struct pvpn_err *e);

/* Data callback for replies: msg is one whole netlink message, already
 * length-checked against what was received. */
typedef int (*nl_data_cb)(const struct nlmsghdr *nlh, void *arg);

/* Send nlh (NLM_F_ACK is added, seq and pid are set), then read until the
 * ACK / NLMSG_ERROR / NLMSG_DONE for it, handing data messages to cb.
 * Returns 0, the kernel's negative errno (ack filled), a negative cb
 * result, or a local socket error (ack->code set too). */
int nl_talk(struct mnl_socket *s, uint32_t *seq, struct nlmsghdr *nlh,
	    nl_data_cb cb, void *arg, struct nl_ack *ack);

/* Parse an NLMSG_ERROR message body (after the nlmsghdr) into ack.
 * Returns false when malformed. */
bool nl_parse_error(const struct nlmsghdr *nlh, size_t len, struct nl_ack *ack);

/* Append an attribute whose payload is hdr followed by tail (for algorithm
 * structs followed by key bytes).  False when it does not fit. */
bool nl_attr_put2(struct nlmsghdr *nlh, size_t cap, uint16_t type,
		  const void *hdr, size_t hdr_len, const void *tail,
		  size_t tail_len);

/* The rtnetlink socket is open (it is, from xfrm_open on). */
int nl_rt(struct xfrm_handle *h, struct pvpn_err *e);

/* --- conversions (addr.c) --- */
void xa_to_kernel(const struct xfrm_addr *a, xfrm_address_t *out);
void xa_from_kernel(const xfrm_address_t *in, int family, struct xfrm_addr *out);
size_t xa_len(const struct xfrm_addr *a);
void sel_to_kernel(const struct xfrm_sel *s, struct xfrm_selector *out);
void sel_from_kernel(const struct xfrm_selector *in, struct xfrm_sel *out);
void lft_to_kernel(const struct xfrm_lifetime *l, struct xfrm_lifetime_cfg *out);
bool reqid_owned(uint32_t reqid);

/* --- builders (sa.c, policy.c); NULL with e set when it does not fit or
 * the input is invalid.  buf must be NL_BUF_SIZE bytes. --- */
struct nlmsghdr *xfrm_build_sa(void *buf, size_t cap, uint16_t type,
			       const struct xfrm_sa *sa, struct pvpn_err *e);
struct nlmsghdr *xfrm_build_sa_id(void *buf, size_t cap, uint16_t type,
				  const struct xfrm_sa_id *id, struct pvpn_err *e);
struct nlmsghdr *xfrm_build_policy(void *buf, size_t cap, uint16_t type,
				   const struct xfrm_policy *p, struct pvpn_err *e);

/* --- decoders (dump.c) of one NEWSA / NEWPOLICY message --- */
/* Check nlh's lengths against len, copy the fixed struct out, and leave a
 * reader over the attributes after it. */
bool xfrm_split(const struct nlmsghdr *nlh, size_t len, void *fixed, size_t flen,
		struct reader *attrs);
/* Next attribute; false at the end or when malformed (then rd_ok fails). */
bool xfrm_next_attr(struct reader *r, uint16_t *type, struct reader *payload);
void xfrm_sa_info_from_kernel(const struct xfrm_usersa_info *p, struct xfrm_sa_info *out);
void xfrm_policy_info_from_kernel(const struct xfrm_userpolicy_info *p,
				  struct xfrm_policy_info *out);
int xfrm_decode_sa(const struct nlmsghdr *nlh, size_t len, struct xfrm_sa_info *out);
int xfrm_decode_policy(const struct nlmsghdr *nlh, size_t len,
		       struct xfrm_policy_info *out);

/* --- errors (errors.c): turn a kernel answer into a sentence --- */
enum nl_op {
	OP_SA_ADD, OP_SA_UPDATE, OP_SA_DELETE, OP_SA_GET, OP_ALLOCSPI,
	OP_POLICY_ADD, OP_POLICY_DELETE, OP_DUMP, OP_ADDR_ADD, OP_ADDR_DEL,
	OP_ROUTE_ADD, OP_ROUTE_DEL,
};
/* ctx: the SA (for SA ops), the policy, or NULL. */
int xfrm_err_kernel(struct pvpn_err *e, enum nl_op op, const struct nl_ack *ack,
		    const void *ctx);

#endif
