/* proto.c — the control protocol's codec (see proto.h and
 * docs/control-protocol.md).  Requests come from local clients the daemon
 * does not trust to be well-formed: every byte is read through lib/reader.h
 * and a request is accepted only when it is complete, of a known version
 * and op, and carries exactly the attributes that op allows. */
#include "ctl/proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ike-lite/ike.h"
#include "lib/reader.h"

/* --- names ---------------------------------------------------------------- */

const char *ctl_status_str(enum ctl_vpn_status s)
{
	switch (s) {
	case CTL_ST_INVALID: return "invalid";
	case CTL_ST_DISCONNECTED: return "disconnected";
	case CTL_ST_CONNECTING: return "connecting";
	case CTL_ST_CONNECTED: return "connected";
	case CTL_ST_REASSERTING: return "reasserting";
	case CTL_ST_DISCONNECTING: return "disconnecting";
	}
	return "invalid";
}

static const struct {
	const char *name, *sentence;
} vpn_errors[CTL_VE_MAX_ + 1] = {
	[CTL_VE_NONE] = { "none", "No error." },
	[CTL_VE_OVERSLEPT] = { "overslept", "The system slept too long for the tunnel to survive." },
	[CTL_VE_NO_NETWORK] = { "noNetworkAvailable", "There is no network path to the server." },
	[CTL_VE_UNRECOVERABLE_NETWORK_CHANGE] = { "unrecoverableNetworkChange",
		"The network changed and the tunnel could not follow." },
	[CTL_VE_CONFIGURATION_FAILED] = { "configurationFailed",
		"The tunnel could not be set up on this machine." },
	[CTL_VE_SERVER_ADDRESS_RESOLUTION_FAILED] = { "serverAddressResolutionFailed",
		"The server's name could not be resolved to an address." },
	[CTL_VE_SERVER_NOT_RESPONDING] = { "serverNotResponding",
		"The server did not answer." },
	[CTL_VE_SERVER_DEAD] = { "serverDead",
		"The server stopped answering liveness checks." },
	[CTL_VE_AUTHENTICATION_FAILED] = { "authenticationFailed",
		"Authentication failed: check the shared secret or credentials and identities." },
	[CTL_VE_CLIENT_CERT_INVALID] = { "clientCertificateInvalid",
		"The client certificate is invalid." },
	[CTL_VE_CLIENT_CERT_NOT_YET_VALID] = { "clientCertificateNotYetValid",
		"The client certificate is not yet valid." },
	[CTL_VE_CLIENT_CERT_EXPIRED] = { "clientCertificateExpired",
		"The client certificate has expired." },
	[CTL_VE_PLUGIN_FAILED] = { "pluginFailed", "A plugin failed." },
	[CTL_VE_CONFIGURATION_NOT_FOUND] = { "configurationNotFound",
		"There is no saved profile with that name." },
	[CTL_VE_PLUGIN_DISABLED] = { "pluginDisabled", "A plugin is disabled." },
	[CTL_VE_NEGOTIATION_FAILED] = { "negotiationFailed",
		"The server and this profile could not agree (proposals, traffic selectors or "
		"addresses)." },
	[CTL_VE_SERVER_DISCONNECTED] = { "serverDisconnected",
		"The server ended the connection." },
	[CTL_VE_SERVER_CERT_INVALID] = { "serverCertificateInvalid",
		"The server's certificate is invalid." },
	[CTL_VE_SERVER_CERT_NOT_YET_VALID] = { "serverCertificateNotYetValid",
		"The server's certificate is not yet valid." },
	[CTL_VE_SERVER_CERT_EXPIRED] = { "serverCertificateExpired",
		"The server's certificate has expired." },
};

const char *ctl_vpn_error_str(enum ctl_vpn_error e)
{
	if ((unsigned)e > CTL_VE_MAX_ || !vpn_errors[e].name)
		return "unknown";
	return vpn_errors[e].name;
}

const char *ctl_vpn_error_sentence(enum ctl_vpn_error e)
{
	if ((unsigned)e > CTL_VE_MAX_ || !vpn_errors[e].sentence)
		return "Unknown error.";
	return vpn_errors[e].sentence;
}

static const char *const op_names[CTL_OP_MAX_ + 1] = {
	[CTL_OP_SAVE] = "save", [CTL_OP_LOAD] = "load", [CTL_OP_REMOVE] = "remove",
	[CTL_OP_LIST] = "list", [CTL_OP_CONNECT] = "connect",
	[CTL_OP_DISCONNECT] = "disconnect", [CTL_OP_STATUS] = "status",
	[CTL_OP_WATCH] = "watch", [CTL_OP_LAST_ERROR] = "last-error",
};

const char *ctl_op_str(enum ctl_op op)
{
	if (op < 1 || op > CTL_OP_MAX_)
		return NULL;
	return op_names[op];
}

enum ctl_vpn_error ctl_vpn_error_from(int ike_err, int code, const char *msg)
{
	switch ((enum ike_error)ike_err) {
	case IKE_ERR_NONE:
		break;
	case IKE_ERR_SERVER_NOT_RESPONDING: return CTL_VE_SERVER_NOT_RESPONDING;
	case IKE_ERR_AUTHENTICATION_FAILED: return CTL_VE_AUTHENTICATION_FAILED;
	case IKE_ERR_NEGOTIATION_FAILED:
	case IKE_ERR_TS_UNACCEPTABLE:
	case IKE_ERR_INTERNAL_ADDRESS_FAILURE:
	case IKE_ERR_PROTOCOL_ERROR: return CTL_VE_NEGOTIATION_FAILED;
	case IKE_ERR_CONFIGURATION_FAILED: return CTL_VE_CONFIGURATION_FAILED;
	case IKE_ERR_SERVER_DISCONNECTED: return CTL_VE_SERVER_DISCONNECTED;
	case IKE_ERR_SERVER_DEAD: return CTL_VE_SERVER_DEAD;
	case IKE_ERR_SERVER_CERT_INVALID:
	case IKE_ERR_SERVER_IDENTITY_MISMATCH: return CTL_VE_SERVER_CERT_INVALID;
	case IKE_ERR_SERVER_CERT_EXPIRED: return CTL_VE_SERVER_CERT_EXPIRED;
	case IKE_ERR_SERVER_CERT_NOT_YET_VALID: return CTL_VE_SERVER_CERT_NOT_YET_VALID;
	case IKE_ERR_CLIENT_CERT_REJECTED: return CTL_VE_CLIENT_CERT_INVALID;
	}
	if (!code)
		return CTL_VE_NONE;
	/* Failures before the engine ran: conn.c's resolve and route checks. */
	if (code == -EHOSTUNREACH || (msg && strstr(msg, "resolution failed")))
		return CTL_VE_SERVER_ADDRESS_RESOLUTION_FAILED;
	if (code == -ENETUNREACH || (msg && strstr(msg, "no network path")))
		return CTL_VE_NO_NETWORK;
	if (code == -ENOENT)
		return CTL_VE_CONFIGURATION_NOT_FOUND;
	return CTL_VE_CONFIGURATION_FAILED;
}

/* --- request decoding -------------------------------------------------------- */

/* Which attributes each op takes: bit 0 NAME, bit 1 TEXT; required ones. */
static const struct { uint8_t allowed, required; } op_attrs[CTL_OP_MAX_ + 1] = {
	[CTL_OP_SAVE] = { 3, 3 },       [CTL_OP_LOAD] = { 1, 1 },
	[CTL_OP_REMOVE] = { 1, 1 },     [CTL_OP_LIST] = { 0, 0 },
	[CTL_OP_CONNECT] = { 1, 1 },    [CTL_OP_DISCONNECT] = { 1, 1 },
	[CTL_OP_STATUS] = { 1, 0 },     [CTL_OP_WATCH] = { 0, 0 },
	[CTL_OP_LAST_ERROR] = { 1, 1 },
};

int ctl_request_decode(const uint8_t *body, size_t len, struct ctl_request *out,
		       uint32_t *seq_out, struct pvpn_err *e)
{
	struct reader r;
	uint8_t version = 0, kind = 0;
	uint16_t op = 0;
	uint32_t seq = 0;
	memset(out, 0, sizeof(*out));
	if (seq_out)
		*seq_out = 0;
	rd_init(&r, body, len);
	if (len > CTL_FRAME_MAX)
		return err_set(e, -EMSGSIZE, "request too large (%zu bytes, at most %d)", len,
			       CTL_FRAME_MAX);
	if (!rd_u8(&r, &version) || !rd_u8(&r, &kind) || !rd_u16(&r, &op) || !rd_u32(&r, &seq))
		return err_set(e, -EINVAL, "truncated header (%zu bytes, need %d)", len,
			       CTL_HDR_LEN);
	if (seq_out)
		*seq_out = seq;
	if (version != CTL_PROTO_VERSION)
		return err_set(e, -EPROTONOSUPPORT,
			       "protocol version %u not supported (this daemon speaks %d)", version,
			       CTL_PROTO_VERSION);
	if (kind != CTL_KIND_REQUEST)
		return err_set(e, -EINVAL, "expected a request (kind %d), got kind %u",
			       CTL_KIND_REQUEST, kind);
	if (!ctl_op_str(op))
		return err_set(e, -EOPNOTSUPP, "unknown request %u", op);
	out->op = op;
	out->seq = seq;
	uint8_t seen = 0;
	while (rd_left(&r) > 0) {
		uint16_t type = 0;
		uint32_t alen = 0;
		struct reader v;
		size_t at = rd_pos(&r);
		if (!rd_u16(&r, &type) || !rd_u32(&r, &alen))
			return err_set(e, -EINVAL, "truncated attribute header at offset %zu", at);
		if (!rd_sub(&r, alen, &v))
			return err_set(e, -EINVAL,
				       "attribute %u at offset %zu claims %u bytes, %zu left", type,
				       at, alen, rd_left(&r));
		uint8_t bit = type == CTL_A_NAME ? 1 : type == CTL_A_TEXT ? 2 : 0;
		if (!bit || !(op_attrs[op].allowed & bit))
			return err_set(e, -EINVAL, "attribute %u is not allowed in a %s request",
				       type, ctl_op_str(op));
		if (seen & bit)
			return err_set(e, -EINVAL, "attribute %u appears twice", type);
		seen |= bit;
		const uint8_t *p = NULL;
		if (!rd_ptr(&v, alen, &p) && alen)
			return err_set(e, -EINVAL, "attribute %u unreadable", type);
		if (bit == 1) {
			if (alen == 0 || alen >= PROF_NAME_MAX)
				return err_set(e, -EINVAL, "profile name must be 1..%d bytes",
					       PROF_NAME_MAX - 1);
			if (memchr(p, 0, alen))
				return err_set(e, -EINVAL, "profile name contains a NUL byte");
			memcpy(out->name, p, alen);
			out->name[alen] = '\0';
			if (prof_name_check(out->name, e) < 0)
				return -EINVAL;
			out->has_name = true;
		} else {
			if (alen > CTL_TEXT_MAX)
				return err_set(e, -EMSGSIZE, "profile text too large (at most %d bytes)",
					       CTL_TEXT_MAX);
			if (alen && memchr(p, 0, alen))
				return err_set(e, -EINVAL, "profile text contains a NUL byte");
			out->text = p ? (const char *)p : "";
			out->text_len = alen;
		}
	}
	if (!rd_done(&r))
		return err_set(e, -EINVAL, "malformed request");
	uint8_t missing = op_attrs[op].required & (uint8_t)~seen;
	if (missing)
		return err_set(e, -EINVAL, "%s request without %s", ctl_op_str(op),
			       (missing & 1) ? "a profile name" : "profile text");
	return 0;
}

/* --- building ---------------------------------------------------------------- */

static void msg_put(struct ctl_msg *m, const void *p, size_t n)
{
	if (m->overflow || n > m->cap - m->len || m->len + n > 4 + CTL_FRAME_MAX) {
		m->overflow = true;
		return;
	}
	if (n)
		memcpy(m->buf + m->len, p, n);
	m->len += n;
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void msg_be(struct ctl_msg *m, uint64_t v, int n)
{
	uint8_t b[8];
	put_be(b, v, n);
	msg_put(m, b, (size_t)n);
}

void ctl_msg_begin(struct ctl_msg *m, void *buf, size_t cap, enum ctl_kind kind, uint16_t op,
		   uint32_t seq)
{
	memset(m, 0, sizeof(*m));
	m->buf = buf;
	m->cap = cap;
	msg_be(m, 0, 4);
	msg_be(m, CTL_PROTO_VERSION, 1);
	msg_be(m, kind, 1);
	msg_be(m, op, 2);
	msg_be(m, seq, 4);
}

void ctl_msg_bytes(struct ctl_msg *m, uint16_t type, const void *p, size_t n)
{
	if (n > CTL_FRAME_MAX) {
		m->overflow = true;
		return;
	}
	msg_be(m, type, 2);
	msg_be(m, n, 4);
	msg_put(m, p, n);
}

void ctl_msg_str(struct ctl_msg *m, uint16_t type, const char *s)
{
	ctl_msg_bytes(m, type, s, strlen(s));
}

void ctl_msg_u8(struct ctl_msg *m, uint16_t type, uint8_t v)
{
	ctl_msg_bytes(m, type, &v, 1);
}

void ctl_msg_u32(struct ctl_msg *m, uint16_t type, uint32_t v)
{
	uint8_t b[4];
	put_be(b, v, 4);
	ctl_msg_bytes(m, type, b, 4);
}

void ctl_msg_u64(struct ctl_msg *m, uint16_t type, uint64_t v)
{
	uint8_t b[8];
	put_be(b, v, 8);
	ctl_msg_bytes(m, type, b, 8);
}

void ctl_msg_nest_begin(struct ctl_msg *m, uint16_t type)
{
	if (m->depth >= CTL_MSG_NEST_MAX) {
		m->overflow = true;
		return;
	}
	msg_be(m, type, 2);
	m->nest[m->depth++] = m->len;
	msg_be(m, 0, 4);
}

void ctl_msg_nest_end(struct ctl_msg *m)
{
	if (m->depth <= 0) {
		m->overflow = true;
		return;
	}
	size_t off = m->nest[--m->depth];
	if (!m->overflow)
		put_be(m->buf + off, m->len - off - 4, 4);
}

int ctl_msg_finish(struct ctl_msg *m)
{
	if (m->overflow || m->depth != 0 || m->len < 4 + CTL_HDR_LEN)
		return -EMSGSIZE;
	put_be(m->buf, m->len - 4, 4);
	return (int)m->len;
}

void ctl_msg_conn(struct ctl_msg *m, const struct ctl_conn_info *ci)
{
	ctl_msg_nest_begin(m, CTL_A_CONN);
	ctl_msg_str(m, CTL_A_NAME, ci->name);
	ctl_msg_u8(m, CTL_A_STATUS, (uint8_t)ci->status);
	ctl_msg_u8(m, CTL_A_VPN_ERROR, (uint8_t)ci->error);
	if (ci->detail[0])
		ctl_msg_str(m, CTL_A_DETAIL, ci->detail);
	if (ci->error_time)
		ctl_msg_u64(m, CTL_A_ERROR_TIME, ci->error_time);
	if (ci->server[0])
		ctl_msg_str(m, CTL_A_SERVER, ci->server);
	if (ci->server_addr[0])
		ctl_msg_str(m, CTL_A_SERVER_ADDR, ci->server_addr);
	if (ci->local_addr[0])
		ctl_msg_str(m, CTL_A_LOCAL_ADDR, ci->local_addr);
	if (ci->since)
		ctl_msg_u64(m, CTL_A_SINCE, ci->since);
	for (size_t i = 0; i < ci->n_vip && i < CTL_MAX_VIP; i++)
		ctl_msg_str(m, CTL_A_VIP, ci->vip[i]);
	for (size_t i = 0; i < ci->n_dns && i < CTL_MAX_DNS_STR; i++)
		ctl_msg_str(m, CTL_A_DNS, ci->dns[i]);
	for (size_t i = 0; i < ci->n_child && i < CTL_MAX_CHILD; i++) {
		const struct ctl_child_info *c = &ci->child[i];
		ctl_msg_nest_begin(m, CTL_A_CHILD);
		ctl_msg_u32(m, CTL_A_SPI_IN, c->spi_in);
		ctl_msg_u32(m, CTL_A_SPI_OUT, c->spi_out);
		if (c->encr[0])
			ctl_msg_str(m, CTL_A_ENCR, c->encr);
		if (c->integ[0])
			ctl_msg_str(m, CTL_A_INTEG, c->integ);
		if (c->keybits)
			ctl_msg_u32(m, CTL_A_KEYBITS, c->keybits);
		ctl_msg_u8(m, CTL_A_ENCAP, c->encap);
		for (size_t k = 0; k < c->n_ts_local && k < CTL_MAX_TS_STR; k++)
			ctl_msg_str(m, CTL_A_TS_LOCAL, c->ts_local[k]);
		for (size_t k = 0; k < c->n_ts_remote && k < CTL_MAX_TS_STR; k++)
			ctl_msg_str(m, CTL_A_TS_REMOTE, c->ts_remote[k]);
		ctl_msg_u64(m, CTL_A_BYTES_IN, c->bytes_in);
		ctl_msg_u64(m, CTL_A_PACKETS_IN, c->packets_in);
		ctl_msg_u64(m, CTL_A_BYTES_OUT, c->bytes_out);
		ctl_msg_u64(m, CTL_A_PACKETS_OUT, c->packets_out);
		if (c->has_rekey)
			ctl_msg_u64(m, CTL_A_REKEY_S, c->rekey_s);
		if (c->added)
			ctl_msg_u64(m, CTL_A_ADDED, c->added);
		ctl_msg_nest_end(m);
	}
	ctl_msg_nest_end(m);
}

int ctl_request_encode(const struct ctl_request *rq, void *buf, size_t cap)
{
	struct ctl_msg m;
	ctl_msg_begin(&m, buf, cap, CTL_KIND_REQUEST, rq->op, rq->seq);
	if (rq->has_name)
		ctl_msg_str(&m, CTL_A_NAME, rq->name);
	if (rq->text)
		ctl_msg_bytes(&m, CTL_A_TEXT, rq->text, rq->text_len);
	return ctl_msg_finish(&m);
}

int ctl_error_encode(void *buf, size_t cap, uint16_t op, uint32_t seq, enum ctl_result res,
		     const char *error, const char *msg)
{
	struct ctl_msg m;
	ctl_msg_begin(&m, buf, cap, CTL_KIND_REPLY, op, seq);
	ctl_msg_u32(&m, CTL_A_RESULT, res);
	if (error)
		ctl_msg_str(&m, CTL_A_ERROR, error);
	if (msg)
		ctl_msg_str(&m, CTL_A_MESSAGE, msg);
	return ctl_msg_finish(&m);
}

/* --- reply decoding ------------------------------------------------------------ */

static bool rd_str(struct reader *v, size_t len, char *out, size_t cap)
{
	const uint8_t *p = NULL;
	if (len >= cap || !rd_ptr(v, len, &p) || (len && memchr(p, 0, len)))
		return false;
	if (len)
		memcpy(out, p, len);
	out[len] = '\0';
	return true;
}

static bool rd_num(struct reader *v, size_t len, uint64_t *out)
{
	uint8_t b8;
	uint32_t b32;
	switch (len) {
	case 1: if (!rd_u8(v, &b8)) return false; *out = b8; return true;
	case 4: if (!rd_u32(v, &b32)) return false; *out = b32; return true;
	case 8: return rd_u64(v, out);
	default: return false;
	}
}

/* Walk attributes: fn(arg, type, len, value reader) returns false to fail. */
typedef bool (*attr_fn)(void *arg, uint16_t type, uint32_t len, struct reader *v);

static bool walk(struct reader *r, attr_fn fn, void *arg)
{
	while (rd_left(r) > 0) {
		uint16_t type = 0;
		uint32_t len = 0;
		struct reader v;
		if (!rd_u16(r, &type) || !rd_u32(r, &len) || !rd_sub(r, len, &v))
			return false;
		if (!fn(arg, type, len, &v))
			return false;
	}
	return rd_done(r);
}

static bool child_attr(void *arg, uint16_t type, uint32_t len, struct reader *v)
{
	struct ctl_child_info *c = arg;
	uint64_t n = 0;
	switch (type) {
	case CTL_A_SPI_IN: if (!rd_num(v, len, &n)) return false; c->spi_in = (uint32_t)n; break;
	case CTL_A_SPI_OUT: if (!rd_num(v, len, &n)) return false; c->spi_out = (uint32_t)n; break;
	case CTL_A_ENCR: return rd_str(v, len, c->encr, sizeof(c->encr));
	case CTL_A_INTEG: return rd_str(v, len, c->integ, sizeof(c->integ));
	case CTL_A_KEYBITS: if (!rd_num(v, len, &n)) return false; c->keybits = (uint32_t)n; break;
	case CTL_A_ENCAP: if (!rd_num(v, len, &n)) return false; c->encap = n != 0; break;
	case CTL_A_TS_LOCAL:
		if (c->n_ts_local >= CTL_MAX_TS_STR)
			return true;
		return rd_str(v, len, c->ts_local[c->n_ts_local++], CTL_ADDR_STR);
	case CTL_A_TS_REMOTE:
		if (c->n_ts_remote >= CTL_MAX_TS_STR)
			return true;
		return rd_str(v, len, c->ts_remote[c->n_ts_remote++], CTL_ADDR_STR);
	case CTL_A_BYTES_IN: return rd_num(v, len, &c->bytes_in);
	case CTL_A_PACKETS_IN: return rd_num(v, len, &c->packets_in);
	case CTL_A_BYTES_OUT: return rd_num(v, len, &c->bytes_out);
	case CTL_A_PACKETS_OUT: return rd_num(v, len, &c->packets_out);
	case CTL_A_REKEY_S: c->has_rekey = true; return rd_num(v, len, &c->rekey_s);
	case CTL_A_ADDED: return rd_num(v, len, &c->added);
	default: break;         /* newer daemon: skip */
	}
	return true;
}

static bool conn_attr(void *arg, uint16_t type, uint32_t len, struct reader *v)
{
	struct ctl_conn_info *ci = arg;
	uint64_t n = 0;
	switch (type) {
	case CTL_A_NAME: return rd_str(v, len, ci->name, sizeof(ci->name));
	case CTL_A_STATUS:
		if (!rd_num(v, len, &n))
			return false;
		ci->status = n <= CTL_ST_MAX_ ? (enum ctl_vpn_status)n : CTL_ST_INVALID;
		break;
	case CTL_A_VPN_ERROR:
		if (!rd_num(v, len, &n))
			return false;
		ci->error = n <= CTL_VE_MAX_ ? (enum ctl_vpn_error)n : CTL_VE_CONFIGURATION_FAILED;
		break;
	case CTL_A_DETAIL: return rd_str(v, len, ci->detail, sizeof(ci->detail));
	case CTL_A_ERROR_TIME: return rd_num(v, len, &ci->error_time);
	case CTL_A_SERVER: return rd_str(v, len, ci->server, sizeof(ci->server));
	case CTL_A_SERVER_ADDR: return rd_str(v, len, ci->server_addr, sizeof(ci->server_addr));
	case CTL_A_LOCAL_ADDR: return rd_str(v, len, ci->local_addr, sizeof(ci->local_addr));
	case CTL_A_SINCE: return rd_num(v, len, &ci->since);
	case CTL_A_VIP:
		if (ci->n_vip >= CTL_MAX_VIP)
			return true;
		return rd_str(v, len, ci->vip[ci->n_vip++], CTL_ADDR_STR);
	case CTL_A_DNS:
		if (ci->n_dns >= CTL_MAX_DNS_STR)
			return true;
		return rd_str(v, len, ci->dns[ci->n_dns++], CTL_ADDR_STR);
	case CTL_A_CHILD:
		if (ci->n_child >= CTL_MAX_CHILD)
			return true;
		return walk(v, child_attr, &ci->child[ci->n_child++]);
	default: break;
	}
	return true;
}

static bool profile_attr(void *arg, uint16_t type, uint32_t len, struct reader *v)
{
	struct ctl_list_entry *l = arg;
	uint64_t n = 0;
	switch (type) {
	case CTL_A_NAME: return rd_str(v, len, l->name, sizeof(l->name));
	case CTL_A_OK: if (!rd_num(v, len, &n)) return false; l->ok = n != 0; break;
	case CTL_A_MESSAGE: return rd_str(v, len, l->message, sizeof(l->message));
	default: break;
	}
	return true;
}

static bool reply_attr(void *arg, uint16_t type, uint32_t len, struct reader *v)
{
	struct ctl_reply *r = arg;
	uint64_t n = 0;
	const uint8_t *p = NULL;
	switch (type) {
	case CTL_A_RESULT:
		if (!rd_num(v, len, &n) || n > CTL_RES_INVALID)
			return false;
		r->result = (uint32_t)n;
		break;
	case CTL_A_ERROR: return rd_str(v, len, r->error, sizeof(r->error));
	case CTL_A_MESSAGE: return rd_str(v, len, r->message, sizeof(r->message));
	case CTL_A_TEXT:
		if (!rd_ptr(v, len, &p) && len)
			return false;
		r->text = (const char *)p;
		r->text_len = len;
		break;
	case CTL_A_PROFILE:
		if (r->n_list >= CTL_MAX_LIST)
			return true;
		memset(&r->list[r->n_list], 0, sizeof(r->list[0]));
		return walk(v, profile_attr, &r->list[r->n_list++]);
	case CTL_A_CONN:
		if (r->n_conn >= CTL_MAX_CONN_INFO)
			return true;
		memset(&r->conn[r->n_conn], 0, sizeof(r->conn[0]));
		return walk(v, conn_attr, &r->conn[r->n_conn++]);
	default: break;
	}
	return true;
}

int ctl_reply_decode(const uint8_t *body, size_t len, struct ctl_reply *r, struct pvpn_err *e)
{
	struct reader rd;
	uint8_t version = 0;
	ctl_reply_free(r);
	r->list = calloc(CTL_MAX_LIST, sizeof(*r->list));
	r->conn = calloc(CTL_MAX_CONN_INFO, sizeof(*r->conn));
	if (!r->list || !r->conn) {
		ctl_reply_free(r);
		return err_set(e, -ENOMEM, "out of memory");
	}
	rd_init(&rd, body, len);
	if (!rd_u8(&rd, &version) || !rd_u8(&rd, &r->kind) || !rd_u16(&rd, &r->op) ||
	    !rd_u32(&rd, &r->seq))
		return err_set(e, -EINVAL, "truncated reply from the daemon");
	if (version != CTL_PROTO_VERSION)
		return err_set(e, -EPROTONOSUPPORT,
			       "the daemon speaks protocol version %u, this pvpn %d", version,
			       CTL_PROTO_VERSION);
	if (r->kind != CTL_KIND_REPLY && r->kind != CTL_KIND_EVENT)
		return err_set(e, -EINVAL, "unexpected message kind %u from the daemon", r->kind);
	if (!walk(&rd, reply_attr, r))
		return err_set(e, -EINVAL, "malformed reply from the daemon");
	return 0;
}

void ctl_reply_free(struct ctl_reply *r)
{
	free(r->list);
	free(r->conn);
	memset(r, 0, sizeof(*r));
}
