/* message.h — the IKEv2 message codec (RFC 7296 §3).
 *
 * Parsing: ike_message_parse() checks and decodes a whole datagram;
 * ike_payloads_parse() does the same for the decrypted inner payload chain
 * of an SK payload.  Every decoded pointer BORROWS from the caller's buffer,
 * which must outlive the struct ike_message.  A struct ike_message also
 * holds pools that the payloads point into, so never copy one by value
 * (pass pointers) — a copy's payloads would point into the original.
 * Every valid message re-serialises to the same bytes:
 *   ike_message_build(parse(m)) == m.
 *
 * Building: struct ike_builder writes a header and payloads in order,
 * chaining the Next Payload fields and patching lengths; the SK payload
 * leaves room for the IV and ICV that crypto fills in afterwards.
 *
 * Error codes (returned, and in struct pvpn_err with a sentence naming the
 * payload and the byte offset):
 *   -EBADMSG          malformed: a length, count or value the RFC forbids
 *   -EPROTONOSUPPORT  IKE major version is not 2 (m->hdr is filled so the
 *                     caller can answer INVALID_MAJOR_VERSION, §2.5)
 *   -EOPNOTSUPP       an unknown payload with the critical bit set;
 *                     m->unsupported_critical holds its type so the caller
 *                     can answer UNSUPPORTED_CRITICAL_PAYLOAD (§2.5)
 *   -E2BIG            more payloads/proposals/transforms/... than the bounds
 *   -ENOSPC           (building) the output buffer is too small
 *   -EINVAL           (building) a value that cannot be encoded */
#ifndef PVPN_IKE_MESSAGE_H
#define PVPN_IKE_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike-lite/constants.h"
#include "lib/err.h"
#include "lib/writer.h"

/* Bounds.  Messages beyond them are refused with -E2BIG rather than
 * truncated. */
#define IKE_MAX_PAYLOADS      64   /* payloads in one chain */
#define IKE_MAX_PROPOSALS     16   /* proposals in one message (all SAs) */
#define IKE_MAX_TRANSFORMS    96   /* transforms in one message */
#define IKE_MAX_ATTRS          4   /* attributes per transform */
#define IKE_MAX_SELECTORS     32   /* traffic selectors in one message (TSi+TSr) */
#define IKE_MAX_CP_ATTRS      48   /* configuration attributes in one message */

#define IKE_NONCE_MIN 16           /* RFC 7296 §3.9 */
#define IKE_NONCE_MAX 256

/* RFC 7296 §3.1.  version and flags are kept whole (minor version and the
 * reserved flag bits must be ignored on receipt, but are kept so the
 * message re-serialises exactly). */
struct ike_header {
	uint8_t spi_i[8];
	uint8_t spi_r[8];
	uint8_t next_payload;   /* when building, filled in by the builder */
	uint8_t version;        /* IKE_VERSION_2_0 */
	uint8_t exchange;       /* enum ike_exchange */
	uint8_t flags;          /* IKE_FLAG_I | IKE_FLAG_R | IKE_FLAG_V */
	uint32_t message_id;
	uint32_t length;        /* when building, filled in by the builder */
};

/* §3.3.5.  type includes the AF bit: (IKE_ATTR_AF | 14) is Key Length in
 * TV format; then value holds it.  Without AF (TLV) data/len hold it. */
struct ike_attr {
	uint16_t type;
	uint16_t value;
	const uint8_t *data;
	uint16_t len;
};

/* §3.3.2 */
struct ike_transform {
	uint8_t type;              /* enum ike_transform_type */
	uint16_t id;               /* enum ike_encr / ike_prf / ike_integ / ike_dh / ike_esn */
	uint16_t key_length;       /* bits from the Key Length attribute, 0 = none */
	uint8_t nattrs;            /* parsed: every attribute, key length included */
	struct ike_attr attrs[IKE_MAX_ATTRS];
	uint8_t reserved1, reserved2;
};

/* §3.3.1 */
struct ike_proposal {
	uint8_t num;               /* 1, then same or +1 */
	uint8_t protocol;          /* enum ike_protocol */
	uint8_t spi_size;          /* 0, 4 or 8 */
	uint8_t spi[8];            /* first spi_size bytes */
	uint8_t reserved;
	uint8_t nxforms;
	const struct ike_transform *xforms;
};

struct ike_sa_body {
	uint8_t nprops;
	const struct ike_proposal *props;
};

struct ike_ke_body {               /* §3.4 */
	uint16_t group;            /* enum ike_dh */
	uint16_t reserved;
	const uint8_t *data;       /* non-empty */
	size_t len;
};

struct ike_id_body {               /* §3.5, IDi and IDr */
	uint8_t type;              /* enum ike_id_type */
	uint8_t reserved[3];
	const uint8_t *data;       /* non-empty */
	size_t len;
};

struct ike_cert_body {             /* §3.6 CERT and §3.7 CERTREQ */
	uint8_t encoding;          /* enum ike_cert_encoding */
	const uint8_t *data;       /* non-empty for CERT, may be empty for CERTREQ */
	size_t len;
};

struct ike_auth_body {             /* §3.8 */
	uint8_t method;            /* enum ike_auth_method */
	uint8_t reserved[3];
	const uint8_t *data;       /* non-empty */
	size_t len;
};

struct ike_data_body {             /* Nonce (§3.9, 16..256 bytes), Vendor ID (§3.12) */
	const uint8_t *data;
	size_t len;
};

struct ike_notify_body {           /* §3.10 */
	uint8_t protocol;          /* 0 or enum ike_protocol */
	uint8_t spi_size;          /* 0, 4 or 8 */
	uint16_t type;             /* enum ike_notify_type */
	const uint8_t *spi;        /* spi_size bytes */
	const uint8_t *data;
	size_t len;
};

struct ike_delete_body {           /* §3.11 */
	uint8_t protocol;          /* IKE: spi_size 0 and no SPIs; ESP/AH: spi_size 4 */
	uint8_t spi_size;
	uint16_t nspis;
	const uint8_t *spis;       /* nspis * spi_size bytes, back to back */
};

/* §3.13.1.  For IPv4 only the first 4 bytes of start/end are used.  A
 * selector of another type (FC, SECLABEL) is kept whole in raw/raw_len
 * (everything after the 4-byte type/proto/length head) and not decoded. */
struct ike_ts {
	uint8_t type;              /* enum ike_ts_type */
	uint8_t ip_proto;          /* 0 = any */
	uint16_t start_port, end_port;
	uint8_t start[16], end[16];
	const uint8_t *raw;
	uint16_t raw_len;
};

struct ike_ts_body {               /* §3.13 TSi and TSr */
	uint8_t nts;
	uint8_t reserved[3];
	const struct ike_ts *ts;
};

/* §3.14.  data/len: everything after the generic header (IV, ciphertext,
 * padding, pad length, ICV) — crypto's business.  first: the Next Payload
 * field, i.e. the type of the first inner payload. */
struct ike_sk_body {
	uint8_t first;
	const uint8_t *data;
	size_t len;
};

/* RFC 7383 §2.5.  first is the inner first payload type in fragment 1,
 * 0 in the others.  data/len as for SK. */
struct ike_skf_body {
	uint8_t first;
	uint16_t number;           /* 1..total */
	uint16_t total;
	const uint8_t *data;
	size_t len;
};

struct ike_cp_attr {               /* §3.15.1 */
	uint16_t type;             /* as on the wire: R bit (0x8000) | enum ike_cp_attr_type */
	const uint8_t *data;       /* may be empty (a request) */
	uint16_t len;
};

struct ike_cp_body {               /* §3.15 */
	uint8_t cfg_type;          /* enum ike_cfg_type */
	uint8_t reserved[3];
	uint8_t nattrs;
	const struct ike_cp_attr *attrs;
};

/* §3.16, RFC 3748 §4.  Code/identifier/length head; type only for request
 * and response (has_type).  data/len: what follows the type (or the head). */
struct ike_eap_body {
	uint8_t code;
	uint8_t id;
	bool has_type;
	uint8_t type;
	const uint8_t *data;
	size_t len;
};

struct ike_payload {
	uint8_t type;              /* enum ike_payload_type */
	uint8_t flags;             /* critical bit + reserved bits, as received */
	size_t offset;             /* of the generic header in the parsed buffer */
	const uint8_t *body;       /* everything after the 4-byte generic header */
	size_t body_len;
	union {
		struct ike_sa_body sa;            /* IKE_PT_SA */
		struct ike_ke_body ke;            /* IKE_PT_KE */
		struct ike_id_body id;            /* IKE_PT_IDI, IKE_PT_IDR */
		struct ike_cert_body cert;        /* IKE_PT_CERT, IKE_PT_CERTREQ */
		struct ike_auth_body auth;        /* IKE_PT_AUTH */
		struct ike_data_body nonce;       /* IKE_PT_NONCE */
		struct ike_notify_body notify;    /* IKE_PT_NOTIFY */
		struct ike_delete_body del;       /* IKE_PT_DELETE */
		struct ike_data_body vendor;      /* IKE_PT_VENDOR */
		struct ike_ts_body ts;            /* IKE_PT_TSI, IKE_PT_TSR */
		struct ike_sk_body sk;            /* IKE_PT_SK */
		struct ike_cp_body cp;            /* IKE_PT_CP */
		struct ike_eap_body eap;          /* IKE_PT_EAP */
		struct ike_skf_body skf;          /* IKE_PT_SKF */
		/* any other type: only body/body_len (kept raw, §2.5) */
	} u;
};

struct ike_message {
	bool has_header;           /* false for an inner chain (ike_payloads_parse) */
	struct ike_header hdr;
	uint8_t first_type;        /* type of the first payload (hdr.next_payload for a message) */
	uint8_t unsupported_critical; /* with -EOPNOTSUPP: the payload type */
	size_t npayloads;
	struct ike_payload payloads[IKE_MAX_PAYLOADS];

	/* Pools the decoded bodies point into; not for direct use. */
	struct ike_proposal pool_props[IKE_MAX_PROPOSALS];
	struct ike_transform pool_xforms[IKE_MAX_TRANSFORMS];
	struct ike_ts pool_ts[IKE_MAX_SELECTORS];
	struct ike_cp_attr pool_cp[IKE_MAX_CP_ATTRS];
	size_t nprops, nxforms, nts, ncp;
};

/* ---- parsing ---------------------------------------------------------- */

/* Parse one IKE message (a UDP payload without the non-ESP marker).  On
 * error, m holds what was parsed so far and must not be used, except
 * m->hdr (valid once the 28-byte header was read) and
 * m->unsupported_critical. */
int ike_message_parse(struct ike_message *m, const uint8_t *buf, size_t len,
		      struct pvpn_err *err);

/* Parse a payload chain without an IKE header (the decrypted content of an
 * SK payload, or of reassembled SKF fragments), starting with a payload of
 * type first_type.  Same rules; SK and SKF are refused inside. */
int ike_payloads_parse(struct ike_message *m, uint8_t first_type,
		       const uint8_t *buf, size_t len, struct pvpn_err *err);

/* The first payload of a type at or after index *from (NULL when none).
 * With from == NULL, searches from the start.  Advances *from past it so
 * it can be called in a loop for repeated payloads (N, D, V, CERT). */
const struct ike_payload *ike_message_find(const struct ike_message *m, uint8_t type,
					   size_t *from);
/* The first Notify of a notify type, or NULL. */
const struct ike_payload *ike_message_find_notify(const struct ike_message *m,
						  uint16_t notify_type);

/* ---- building --------------------------------------------------------- */

struct ike_builder {
	struct writer w;
	bool has_header;
	size_t np_off;             /* offset of the Next Payload byte to patch next */
	bool np_is_first;          /* np_off is not in the buffer: store in first_type */
	uint8_t first_type;
	int err;                   /* sticky first error */
	char errmsg[128];
	size_t npayloads;
	size_t sk_off;             /* SK/SKF payload start while one is open, else SIZE_MAX */
	size_t sk_iv_off, sk_iv_len;
	bool sk_done;              /* an SK/SKF was closed: nothing may follow */
};

/* Where crypto finds the parts of the SK (or SKF) payload once
 * ike_build_finish() has patched the header length.  The plaintext region
 * [pt_off, pt_off+pt_len) ends with the padding and the Pad Length byte;
 * the IV and ICV regions are zeroed for crypto to fill.  The AAD of an
 * AEAD (RFC 5282 §5.1) is [0, iv_off). */
struct ike_sk_layout {
	size_t sk_off;
	size_t iv_off, iv_len;
	size_t pt_off, pt_len;
	size_t pad_len;            /* padding bytes before the Pad Length byte */
	size_t icv_off, icv_len;
};

/* Start a message: writes the header (next_payload and length are patched
 * later).  All ike_build_* return 0 or the sticky error. */
int ike_build_begin(struct ike_builder *b, uint8_t *buf, size_t cap,
		    const struct ike_header *h);
/* Start a bare payload chain (the plaintext of an SK payload). */
int ike_build_chain_begin(struct ike_builder *b, uint8_t *buf, size_t cap);

/* Append one payload from its decoded form: p->type, p->flags and the union
 * member for the type (p->body/body_len for types without one).  The
 * general entry point; the helpers below fill a payload and call it. */
int ike_build_payload(struct ike_builder *b, const struct ike_payload *p);

int ike_build_sa(struct ike_builder *b, const struct ike_proposal *props, size_t nprops);
int ike_build_ke(struct ike_builder *b, uint16_t group, const uint8_t *data, size_t len);
int ike_build_nonce(struct ike_builder *b, const uint8_t *data, size_t len);
int ike_build_notify(struct ike_builder *b, uint8_t protocol, const uint8_t *spi,
		     uint8_t spi_size, uint16_t type, const uint8_t *data, size_t len);
/* type is IKE_PT_IDI or IKE_PT_IDR */
int ike_build_id(struct ike_builder *b, uint8_t type, uint8_t id_type,
		 const uint8_t *data, size_t len);
int ike_build_auth(struct ike_builder *b, uint8_t method, const uint8_t *data, size_t len);
/* type is IKE_PT_CERT or IKE_PT_CERTREQ */
int ike_build_cert(struct ike_builder *b, uint8_t type, uint8_t encoding,
		   const uint8_t *data, size_t len);
/* type is IKE_PT_TSI or IKE_PT_TSR */
int ike_build_ts(struct ike_builder *b, uint8_t type, const struct ike_ts *ts, size_t nts);
int ike_build_cp(struct ike_builder *b, uint8_t cfg_type, const struct ike_cp_attr *attrs,
		 size_t nattrs);
int ike_build_delete(struct ike_builder *b, uint8_t protocol, uint8_t spi_size,
		     const uint8_t *spis, uint16_t nspis);
int ike_build_vendor(struct ike_builder *b, const uint8_t *data, size_t len);
int ike_build_eap(struct ike_builder *b, const struct ike_eap_body *eap);
/* Any payload type with a raw body (no checks on the body). */
int ike_build_raw(struct ike_builder *b, uint8_t type, uint8_t flags,
		  const uint8_t *body, size_t len);

/* Open an SK payload: writes its generic header and iv_len zero bytes.  The
 * payloads added until ike_build_sk_end() are the plaintext; the first
 * one's type goes into SK's Next Payload field (§3.14).  SK is the last
 * payload of the message. */
int ike_build_sk_begin(struct ike_builder *b, size_t iv_len);
/* Open an SKF payload (RFC 7383 §2.5): first is the inner first payload
 * type for fragment 1 and 0 for the others; the plaintext slice is then
 * appended with ike_build_bytes(). */
int ike_build_skf_begin(struct ike_builder *b, uint8_t first, uint16_t number,
			uint16_t total, size_t iv_len);
/* Raw bytes into an open SKF payload. */
int ike_build_bytes(struct ike_builder *b, const uint8_t *data, size_t len);
/* Close the SK/SKF payload: padding (zero bytes) so that plaintext +
 * padding + Pad Length is a multiple of block (1 = no alignment), the Pad
 * Length byte, icv_len zero bytes; fills *lay (may be NULL). */
int ike_build_sk_end(struct ike_builder *b, size_t block, size_t icv_len,
		     struct ike_sk_layout *lay);

/* Finish: patch the header's Length.  *len gets the message length (or
 * the chain length); for a chain, *first_type (may be NULL) gets the type
 * of the first payload.  Returns the sticky error with its message. */
int ike_build_finish(struct ike_builder *b, size_t *len, uint8_t *first_type,
		     struct pvpn_err *err);

/* Re-serialise a parsed message (with its header, or a bare chain when
 * !m->has_header, whose first type is m->first_type). */
int ike_message_build(const struct ike_message *m, uint8_t *buf, size_t cap,
		      size_t *len, struct pvpn_err *err);

/* ---- printing (print.c) ----------------------------------------------- */
/* One line: "IKE_SA_INIT #0 I req [SA KE No N(NATD_S_IP) N(NATD_D_IP)]"
 * (exchange, Message ID, I = sent by the original initiator, req/rsp from
 * the R flag, the payload list); a bare chain gives only "[IDi AUTH ...]".
 * Names and numbers only, never contents.  snprintf semantics: always
 * NUL-terminated when cap > 0, returns the full length. */
int ike_message_format(const struct ike_message *m, char *out, size_t cap);

/* ---- names (names.c) -------------------------------------------------- */
/* Each returns a static string, or NULL when the number is unknown. */
const char *ike_exchange_name(uint8_t exchange);      /* "IKE_SA_INIT" */
const char *ike_payload_name(uint8_t type);           /* "SA", "KE", "IDi", "No", "N" ... (short) */
const char *ike_payload_long_name(uint8_t type);      /* "Security Association" ... */
const char *ike_protocol_name(uint8_t protocol);      /* "IKE", "AH", "ESP" */
const char *ike_transform_type_name(uint8_t type);    /* "ENCR", "PRF", "INTEG", "DH", "ESN" */
const char *ike_transform_name(uint8_t type, uint16_t id); /* "ENCR_AES_GCM_16" ... */
const char *ike_notify_name(uint16_t type);           /* "NAT_DETECTION_SOURCE_IP" */
const char *ike_notify_short_name(uint16_t type);     /* "NATD_S_IP", else the long name */
const char *ike_id_type_name(uint8_t type);           /* "ID_FQDN" */
const char *ike_cert_encoding_name(uint8_t enc);
const char *ike_auth_method_name(uint8_t method);     /* "SHARED_KEY_MIC" */
const char *ike_ts_type_name(uint8_t type);           /* "TS_IPV4_ADDR_RANGE" */
const char *ike_cfg_type_name(uint8_t type);          /* "CFG_REQUEST" */
const char *ike_cp_attr_name(uint16_t type);          /* R bit ignored: "INTERNAL_IP4_ADDRESS" */
const char *ike_eap_code_name(uint8_t code);
const char *ike_eap_type_name(uint8_t type);

#endif
