/* errors.c — kernel answers turned into sentences a person can act on.
 *
 * The kernel's extended-ACK text (NLMSGERR_ATTR_MSG) is appended when it
 * gave one.  The errnos were taken from what the kernel really returns:
 * an ESP SA on a kernel without esp4/esp6 fails with EPROTONOSUPPORT
 * ("Requested type not found"), an unknown algorithm with ENOSYS
 * ("Requested AEAD algorithm not found"), a missing SA with ESRCH, a
 * missing policy with ENOENT. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "kernel-xfrm/nl.h"

static const char *op_what(enum nl_op op)
{
	switch (op) {
	case OP_SA_ADD: return "adding the SA";
	case OP_SA_UPDATE: return "updating the SA";
	case OP_SA_DELETE: return "deleting the SA";
	case OP_SA_GET: return "reading the SA";
	case OP_ALLOCSPI: return "reserving an SPI";
	case OP_POLICY_ADD: return "adding the policy";
	case OP_POLICY_DELETE: return "deleting the policy";
	case OP_DUMP: return "listing kernel state";
	case OP_ADDR_ADD: return "adding the address";
	case OP_ADDR_DEL: return "removing the address";
	case OP_ROUTE_ADD: return "adding the route";
	case OP_ROUTE_DEL: return "removing the route";
	}
	return "talking to the kernel";
}

static bool is_sa_op(enum nl_op op)
{
	return op == OP_SA_ADD || op == OP_SA_UPDATE;
}

static bool is_id_op(enum nl_op op)
{
	return op == OP_SA_DELETE || op == OP_SA_GET || op == OP_ALLOCSPI;
}

/* Which algorithm the kernel could not find: its text names the attribute
 * ("Requested AEAD/CRYPT/AUTH_TRUNC algorithm not found"). */
static const char *missing_alg(const struct xfrm_sa *sa, const char *kmsg)
{
	if (sa->aead.name[0])
		return sa->aead.name;
	if (strstr(kmsg, "AUTH") && sa->auth.name[0])
		return sa->auth.name;
	if (strstr(kmsg, "CRYPT") || !sa->auth.name[0])
		return sa->enc.name;
	return NULL;
}

int xfrm_err_kernel(struct pvpn_err *e, enum nl_op op, const struct nl_ack *ack,
		    const void *ctx)
{
	int code = ack->code < 0 ? ack->code : -EIO;
	char what[96], addr[INET6_ADDRSTRLEN];
	char sentence[PVPN_ERR_MSG_MAX];
	const char *kmsg = ack->msg;

	what[0] = '\0';
	if (is_sa_op(op) && ctx) {
		const struct xfrm_sa *sa = ctx;
		snprintf(what, sizeof(what), "SA 0x%08x to %s", sa->spi,
			 xfrm_addr_str(&sa->dst, addr, sizeof(addr)));
	} else if (is_id_op(op) && ctx) {
		const struct xfrm_sa_id *id = ctx;
		snprintf(what, sizeof(what), "SA 0x%08x to %s", id->spi,
			 xfrm_addr_str(&id->dst, addr, sizeof(addr)));
	} else if ((op == OP_POLICY_ADD || op == OP_POLICY_DELETE) && ctx) {
		const struct xfrm_policy *p = ctx;
		char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
		snprintf(what, sizeof(what), "%s policy %s/%u -> %s/%u",
			 p->dir == XFRM_DIR_IN ? "in" : p->dir == XFRM_DIR_OUT ? "out" : "fwd",
			 p->sel.src.family ? xfrm_addr_str(&p->sel.src, s, sizeof(s)) : "any",
			 p->sel.src_len,
			 p->sel.dst.family ? xfrm_addr_str(&p->sel.dst, d, sizeof(d)) : "any",
			 p->sel.dst_len);
	} else {
		snprintf(what, sizeof(what), "%s", op_what(op) + 0);
	}

	switch (-code) {
	case EPERM:
	case EACCES:
		snprintf(sentence, sizeof(sentence),
			 "%s: not permitted; pvpnd needs CAP_NET_ADMIN (run it as root or grant the capability)",
			 op_what(op));
		break;
	case EPROTONOSUPPORT:
		if (is_sa_op(op) || op == OP_ALLOCSPI) {
			const struct xfrm_sa *sa = is_sa_op(op) ? ctx : NULL;
			bool v6 = sa && sa->dst.family == AF_INET6;
			snprintf(sentence, sizeof(sentence),
				 "this kernel has no ESP support (load esp4/esp6, or enable CONFIG_INET_ESP%s)",
				 v6 ? " and CONFIG_INET6_ESP" : "");
		} else {
			snprintf(sentence, sizeof(sentence), "%s: protocol not supported by this kernel",
				 what);
		}
		break;
	case ENOSYS:
	case ENOENT:
		if (-code == ENOSYS && is_sa_op(op) && ctx) {
			const char *alg = missing_alg(ctx, kmsg);
			snprintf(sentence, sizeof(sentence),
				 "this kernel has no crypto algorithm \"%s\" (misspelled, or its module, e.g. crypto's gcm/chacha20poly1305/cbc/hmac, is not available)",
				 alg ? alg : "?");
			break;
		}
		if (op == OP_POLICY_DELETE) {
			snprintf(sentence, sizeof(sentence), "%s does not exist", what);
			break;
		}
		if (-code == ENOENT && (op == OP_ROUTE_DEL || op == OP_ADDR_DEL)) {
			snprintf(sentence, sizeof(sentence), "%s: no such entry", op_what(op));
			break;
		}
		snprintf(sentence, sizeof(sentence), "%s: %s", what, strerror(-code));
		break;
	case ESRCH:
		if (op == OP_SA_UPDATE || is_id_op(op))
			snprintf(sentence, sizeof(sentence), "%s does not exist", what);
		else if (op == OP_ROUTE_DEL || op == OP_ADDR_DEL)
			snprintf(sentence, sizeof(sentence), "%s: no such entry", op_what(op));
		else
			snprintf(sentence, sizeof(sentence), "%s: %s", what, strerror(-code));
		break;
	case EEXIST:
		if (op == OP_ROUTE_ADD || op == OP_ADDR_ADD)
			snprintf(sentence, sizeof(sentence), "%s: it already exists", op_what(op));
		else
			snprintf(sentence, sizeof(sentence), "%s already exists", what);
		break;
	case ENODEV:
		snprintf(sentence, sizeof(sentence), "%s: no such network interface", op_what(op));
		break;
	case ENETUNREACH:
		snprintf(sentence, sizeof(sentence), "%s: the gateway is not reachable from that interface",
			 op_what(op));
		break;
	case EADDRNOTAVAIL:
		snprintf(sentence, sizeof(sentence), "%s: the address is not configured here", op_what(op));
		break;
	case EINVAL:
		snprintf(sentence, sizeof(sentence), "the kernel rejected %s as invalid", what);
		break;
	default:
		snprintf(sentence, sizeof(sentence), "%s failed: %s", what, strerror(-code));
		break;
	}
	/* One code for "it is not there", whatever the kernel's subsystem
	 * says (ESRCH for SAs and routes, EADDRNOTAVAIL for addresses). */
	if (code == -ESRCH || (code == -EADDRNOTAVAIL && op == OP_ADDR_DEL))
		code = -ENOENT;
	if (kmsg[0])
		return err_set(e, code, "%s (kernel: %s)", sentence, kmsg);
	return err_set(e, code, "%s", sentence);
}
