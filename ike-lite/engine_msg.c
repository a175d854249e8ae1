/* engine_msg.c — SK-protected messages as whole byte strings (RFC 7296
 * §3.14), shared by the engine and the test-only fake responder. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ike-lite/engine_internal.h"
#include "lib/reader.h"
#include "lib/writer.h"

int eng_peek_header(const uint8_t *buf, size_t len, struct ike_header *h)
{
	struct reader r;

	rd_init(&r, buf, len);
	rd_bytes(&r, h->spi_i, 8);
	rd_bytes(&r, h->spi_r, 8);
	rd_u8(&r, &h->next_payload);
	rd_u8(&r, &h->version);
	rd_u8(&r, &h->exchange);
	rd_u8(&r, &h->flags);
	rd_u32(&r, &h->message_id);
	rd_u32(&r, &h->length);
	if (!rd_ok(&r))
		return -EBADMSG;
	/* §3.1: major version 2; the length covers exactly the datagram. */
	if ((h->version >> 4) != 2 || h->length != len)
		return -EBADMSG;
	return 0;
}

int eng_seal(const struct ike_suite *s, const struct secret *ek, const struct secret *ak,
	     ike_rand_fn rnd, const struct ike_header *h, uint8_t first,
	     const uint8_t *plain, size_t plain_len, uint8_t **out, size_t *out_len)
{
	size_t iv_len, pad_len, icv_len, cap, len = 0;
	struct writer w;
	uint8_t *buf;
	int rc;

	*out = NULL;
	if ((rc = ike_sk_overhead(s, plain_len, &iv_len, &pad_len, &icv_len)) < 0)
		return rc;
	cap = IKE_HEADER_LEN + 4 + iv_len + plain_len + pad_len + 1 + icv_len;
	buf = calloc(1, cap);
	if (!buf)
		return -ENOMEM;
	wr_init(&w, buf, cap);
	wr_bytes(&w, h->spi_i, 8);
	wr_bytes(&w, h->spi_r, 8);
	wr_u8(&w, IKE_PT_SK);
	wr_u8(&w, IKE_VERSION_2_0);
	wr_u8(&w, h->exchange);
	wr_u8(&w, h->flags);
	wr_u32(&w, h->message_id);
	wr_u32(&w, 0);                 /* length: set by the seal */
	wr_u8(&w, first);              /* SK: Next Payload = first inner */
	wr_u8(&w, 0);
	wr_u16(&w, 0);                 /* SK length: set by the seal */
	wr_zero(&w, iv_len);
	wr_bytes(&w, plain, plain_len);
	if (!wr_ok(&w)) {
		rc = -ENOBUFS;
		goto fail;
	}
	rc = ike_sk_seal(s, ek, ak, rnd, buf, cap, IKE_HEADER_LEN, plain_len, &len, NULL);
	if (rc < 0)
		goto fail;
	*out = buf;
	*out_len = len;
	return 0;
fail:
	secret_wipe(buf, cap);
	free(buf);
	return rc;
}

int eng_open(const struct ike_suite *s, const struct secret *ek, const struct secret *ak,
	     uint8_t *buf, size_t len, const struct ike_message *outer,
	     struct ike_message *inner, struct pvpn_err *e)
{
	const struct ike_payload *sk;
	const uint8_t *plain;
	size_t plain_len;
	int rc;

	/* §3.14: SK is the last payload; nothing unprotected is trusted. */
	if (!outer->npayloads)
		return err_set(e, -EBADMSG, "no SK payload");
	sk = &outer->payloads[outer->npayloads - 1];
	if (sk->type != IKE_PT_SK)
		return err_set(e, -EBADMSG, "the last payload is not SK");
	if ((rc = ike_sk_open(s, ek, ak, buf, len, sk->offset, &plain, &plain_len, e)) < 0)
		return rc;
	return ike_payloads_parse(inner, sk->u.sk.first, plain, plain_len, e);
}

int eng_open_peer(struct ike_sa *sa, uint8_t *buf, size_t len, struct pvpn_err *e)
{
	int rc;

	if ((rc = ike_message_parse(sa->m_outer, buf, len, e)) < 0)
		return rc;
	/* §2.14: each direction has its own keys; the peer sends with the
	 * responder's when we started the IKE SA, else with the initiator's. */
	if (!sa->life.peer_initiated)
		return eng_open(&sa->suite, &sa->keys.sk_er, &sa->keys.sk_ar, buf, len,
				sa->m_outer, sa->m_inner, e);
	return eng_open(&sa->suite, &sa->keys.sk_ei, &sa->keys.sk_ai, buf, len, sa->m_outer,
			sa->m_inner, e);
}
