/* exchange_auth.c — IKE_AUTH with a pre-shared key as initiator (RFC 7296
 * §1.2, §2.15, §2.17, §2.19, §2.21.2). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "ike-lite/engine_internal.h"
#include "lib/log.h"

/* ID payload body as MACed for AUTH (§2.15): type, 3 reserved, data. */
static size_t id_body(const struct ike_id *id, uint8_t *out, size_t cap)
{
	if (cap < 4u + id->len)
		return 0;
	out[0] = id->type;
	out[1] = out[2] = out[3] = 0;
	memcpy(out + 4, id->data, id->len);
	return 4u + id->len;
}

static void cfg_ts_to_wire(const struct ike_cfg_ts *c, struct ike_ts *t)
{
	memset(t, 0, sizeof(*t));
	t->type = c->type;
	t->ip_proto = c->ip_proto;
	t->start_port = c->start_port;
	t->end_port = c->end_port;
	memcpy(t->start, c->start, 16);
	memcpy(t->end, c->end, 16);
}

static void ts_all(struct ike_ts *t, bool v6)
{
	memset(t, 0, sizeof(*t));
	t->type = v6 ? IKE_TS_IPV6_ADDR_RANGE : IKE_TS_IPV4_ADDR_RANGE;
	t->end_port = 65535;
	memset(t->end, 0xff, v6 ? 16 : 4);
}

/* Our TSi/TSr (§2.9): the configured ones, else everything of the families
 * we ask addresses for. */
static size_t our_ts(const struct ike_sa *sa, bool local, struct ike_ts *out)
{
	const struct ike_cfg_ts *c = local ? sa->cfg.ts_local : sa->cfg.ts_remote;
	size_t n = local ? sa->cfg.n_ts_local : sa->cfg.n_ts_remote, k = 0;

	for (size_t i = 0; i < n; i++)
		cfg_ts_to_wire(&c[i], &out[k++]);
	if (!k) {
		if (sa->cfg.want_vip4 || !sa->cfg.want_vip6)
			ts_all(&out[k++], false);
		if (sa->cfg.want_vip6)
			ts_all(&out[k++], true);
	}
	return k;
}

int eng_auth_start(struct ike_sa *sa, uint64_t now_ms)
{
	struct ike_builder b;
	struct pvpn_err err;
	uint8_t *plain = NULL, *msg = NULL, idb[4 + IKE_CFG_MAX_ID_LEN], vip6_req[17];
	struct ike_ts ts[IKE_CFG_MAX_TS];
	struct ike_cp_attr cp[5];
	size_t ncp = 0, nts, plain_len, len, idlen;
	uint8_t first;
	int rc;

	if (!(plain = malloc(ENG_MSG_MAX))) {
		rc = -ENOMEM;
		goto fail;
	}
	idlen = id_body(&sa->cfg.local_id, idb, sizeof(idb));
	ike_build_chain_begin(&b, plain, ENG_MSG_MAX);
	ike_build_id(&b, IKE_PT_IDI, sa->cfg.local_id.type, sa->cfg.local_id.data,
		     sa->cfg.local_id.len);
	if (sa->cfg.remote_id.type)
		ike_build_id(&b, IKE_PT_IDR, sa->cfg.remote_id.type, sa->cfg.remote_id.data,
			     sa->cfg.remote_id.len);
	/* CERT, CERTREQ and AUTH (or none for EAP): auth_engine.c. */
	if ((rc = eng_auth_build_ours(sa, &b, idb, idlen)) < 0)
		goto out;
	memset(cp, 0, sizeof(cp));
	if (sa->cfg.want_vip4)
		cp[ncp++].type = IKE_CP_INTERNAL_IP4_ADDRESS;
	if (sa->cfg.want_vip4 && sa->cfg.want_dns)
		cp[ncp++].type = IKE_CP_INTERNAL_IP4_DNS;
	if (sa->cfg.want_vip6)
		cp[ncp++].type = IKE_CP_INTERNAL_IP6_ADDRESS;
	if (sa->cfg.want_vip6 && sa->cfg.want_dns)
		cp[ncp++].type = IKE_CP_INTERNAL_IP6_DNS;
	if (sa->cfg.want_domains)
		cp[ncp++].type = IKE_CP_INTERNAL_DNS_DOMAIN;
	eng_reauth_cp(sa, cp, ncp, vip6_req);
	if (ncp)
		ike_build_cp(&b, IKE_CFG_REQUEST, cp, ncp);
	/* §2.4: the server may drop state left by an earlier run of ours;
	 * not when re-authenticating (RFC 4478): the old SA is still ours. */
	if (!sa->cfg.reauth)
		ike_build_notify(&b, 0, NULL, 0, IKE_N_INITIAL_CONTACT, NULL, 0);
	eng_mobike_build_auth(sa, &b);
	eng_build_offer(sa, false, &b);
	nts = our_ts(sa, true, ts);
	ike_build_ts(&b, IKE_PT_TSI, ts, nts);
	nts = our_ts(sa, false, ts);
	ike_build_ts(&b, IKE_PT_TSR, ts, nts);
	if ((rc = ike_build_finish(&b, &plain_len, &first, &err)) < 0) {
		eng_close(sa, IKE_ERR_CONFIGURATION_FAILED, "cannot build IKE_AUTH: %s", err.msg);
		goto out;
	}
	if ((rc = eng_build_protected(sa, IKE_AUTH, false, sa->next_mid, plain, plain_len, first,
				      &msg, &len)) < 0) {
		eng_close(sa, IKE_ERR_CONFIGURATION_FAILED, "cannot protect IKE_AUTH (%d)", rc);
		goto out;
	}
	eng_mobike_float(sa);   /* RFC 4555 §3.3: port 4500 from IKE_AUTH on */
	sa->state = ST_AUTH_SENT;
	rc = eng_request_start(sa, REQ_AUTH, IKE_AUTH, sa->next_mid, msg, len, now_ms);
	sa->next_mid++;
	msg = NULL;
	goto out;
fail:
	eng_close(sa, IKE_ERR_CONFIGURATION_FAILED, "out of memory");
out:
	if (plain) {
		secret_wipe(plain, ENG_MSG_MAX);
		free(plain);
	}
	free(msg);
	return rc;
}

static bool id_matches(const struct ike_id *want, const struct ike_id_body *got)
{
	return want->type == got->type && want->len == got->len &&
	       memcmp(want->data, got->data, got->len) == 0;
}

static void cp_reply(const struct ike_payload *p, struct ike_act_config *c)
{
	const struct ike_cp_body *cp = &p->u.cp;

	for (size_t i = 0; i < cp->nattrs; i++) {
		const struct ike_cp_attr *a = &cp->attrs[i];
		switch (a->type & IKE_CP_ATTR_TYPE_MASK) {
		case IKE_CP_INTERNAL_IP4_ADDRESS:
			if (a->len == 4 && !c->has_vip4) {
				memcpy(&c->vip4, a->data, 4);
				c->has_vip4 = true;
			}
			break;
		case IKE_CP_INTERNAL_IP4_NETMASK:
			if (a->len == 4)
				memcpy(&c->netmask4, a->data, 4);
			break;
		case IKE_CP_INTERNAL_IP4_DNS:
			if (a->len == 4 && c->n_dns4 < IKE_MAX_CP_ADDRS)
				memcpy(&c->dns4[c->n_dns4++], a->data, 4);
			break;
		case IKE_CP_INTERNAL_IP6_ADDRESS:
			if (a->len == 17 && !c->has_vip6 && a->data[16] <= 128) {
				memcpy(&c->vip6, a->data, 16);
				c->vip6_prefix = a->data[16];
				c->has_vip6 = true;
			}
			break;
		case IKE_CP_INTERNAL_IP6_DNS:
			if (a->len == 16 && c->n_dns6 < IKE_MAX_CP_ADDRS)
				memcpy(&c->dns6[c->n_dns6++], a->data, 16);
			break;
		case IKE_CP_INTERNAL_IP4_SUBNET:
			if (a->len == 8 && c->n_subnets4 < IKE_MAX_CP_ADDRS) {
				memcpy(&c->subnet4[c->n_subnets4], a->data, 4);
				memcpy(&c->subnet4_mask[c->n_subnets4++], a->data + 4, 4);
			}
			break;
		case IKE_CP_INTERNAL_IP6_SUBNET:
			if (a->len == 17 && a->data[16] <= 128 && c->n_subnets6 < IKE_MAX_CP_ADDRS) {
				memcpy(&c->subnet6[c->n_subnets6], a->data, 16);
				c->subnet6_prefix[c->n_subnets6++] = a->data[16];
			}
			break;
		case IKE_CP_INTERNAL_DNS_DOMAIN: {
			/* RFC 8598 §4: a name, no NUL; keep only printable ones. */
			bool ok = a->len > 0 && a->len <= IKE_MAX_DOMAIN_LEN &&
				  c->n_domains < IKE_MAX_DOMAINS;
			for (size_t k = 0; ok && k < a->len; k++)
				if (a->data[k] <= 0x20 || a->data[k] >= 0x7f)
					ok = false;
			if (ok) {
				memcpy(c->domains[c->n_domains], a->data, a->len);
				c->domains[c->n_domains++][a->len] = '\0';
			}
			break;
		}
		default:
			break;
		}
	}
}

static size_t wire_ts_to_cfg(const struct ike_payload *p, struct ike_cfg_ts *out)
{
	size_t k = 0;
	for (size_t i = 0; p && i < p->u.ts.nts && k < IKE_CFG_MAX_TS; i++) {
		const struct ike_ts *t = &p->u.ts.ts[i];
		if (t->type != IKE_TS_IPV4_ADDR_RANGE && t->type != IKE_TS_IPV6_ADDR_RANGE)
			continue;
		memset(&out[k], 0, sizeof(out[k]));
		out[k].type = t->type;
		out[k].ip_proto = t->ip_proto;
		out[k].start_port = t->start_port;
		out[k].end_port = t->end_port;
		memcpy(out[k].start, t->start, 16);
		memcpy(out[k].end, t->end, 16);
		k++;
	}
	return k;
}

/* RFC 7296 §2.9: the responder may narrow our selectors, never widen
 * them; each of its selectors must lie inside one of ours. */
static bool ts_inside(const struct ike_cfg_ts *t, const struct ike_ts *ours, size_t n)
{
	size_t alen = t->type == IKE_TS_IPV6_ADDR_RANGE ? 16 : 4;
	for (size_t i = 0; i < n; i++) {
		const struct ike_ts *o = &ours[i];
		if (o->type != t->type)
			continue;
		if (o->ip_proto && o->ip_proto != t->ip_proto)
			continue;
		if (t->start_port < o->start_port || t->end_port > o->end_port ||
		    t->start_port > t->end_port)
			continue;
		if (memcmp(t->start, o->start, alen) < 0 || memcmp(t->end, o->end, alen) > 0 ||
		    memcmp(t->start, t->end, alen) > 0)
			continue;
		return true;
	}
	return false;
}

static bool ts_all_inside(const struct ike_sa *sa, bool local, const struct ike_cfg_ts *got,
			  size_t ngot)
{
	struct ike_ts ours[IKE_CFG_MAX_TS];
	size_t n = our_ts(sa, local, ours);
	for (size_t i = 0; i < ngot; i++)
		if (!ts_inside(&got[i], ours, n))
			return false;
	return true;
}

/* The IKE SA is up but cannot be used: delete it (one shot, §1.4.1) and
 * report. */
static void fail_after_auth(struct ike_sa *sa, enum ike_error e, const char *detail)
{
	eng_send_delete_oneshot(sa);
	eng_close(sa, e, "%s", detail);
}

int eng_queue_install_child(struct ike_sa *sa, bool rekey, uint32_t spi_in, uint32_t spi_out,
			    const struct ike_suite *esp, bool esn, const struct ike_child_keys *keys)
{
	struct ike_action a;
	struct ike_act_child *c = &a.u.install;

	memset(&a, 0, sizeof(a));
	a.type = IKE_ACT_INSTALL_CHILD;
	c->rekey = rekey;
	c->spi_in = spi_in;
	c->spi_out = spi_out;
	c->local = sa->cfg.local;
	c->remote = sa->cfg.remote;
	eng_set_port(&c->local, 0);
	eng_set_port(&c->remote, 0);
	c->proto = IPPROTO_ESP;
	c->tunnel = true;
	c->encap = eng_encap(sa);   /* IKE may be on 4500 without a NAT (mobike.c) */
	if (c->encap) {
		c->encap_local_port = eng_port(&sa->path.local);
		c->encap_remote_port = eng_port(&sa->path.remote);
	}
	c->encr_id = esp->encr;
	c->encr_key_bits = esp->encr_key_bits;
	c->integ_id = esp->integ;
	c->esn = esn;
	/* We are the initiator: "i" keys protect what we send. */
	if (secret_dup(&c->encr_out, &keys->encr_i) < 0 || secret_dup(&c->encr_in, &keys->encr_r) < 0 ||
	    secret_dup(&c->integ_out, &keys->integ_i) < 0 ||
	    secret_dup(&c->integ_in, &keys->integ_r) < 0) {
		secret_free(&c->encr_out); secret_free(&c->encr_in);
		secret_free(&c->integ_out); secret_free(&c->integ_in);
		return -ENOMEM;
	}
	memcpy(c->ts_local, sa->ts_l, sizeof(sa->ts_l));
	c->n_ts_local = sa->n_ts_l;
	memcpy(c->ts_remote, sa->ts_r, sizeof(sa->ts_r));
	c->n_ts_remote = sa->n_ts_r;
	c->reqid = sa->cfg.reqid;
	c->hard_lifetime_s = sa->cfg.child_lifetime_s;
	c->soft_lifetime_s = sa->cfg.child_lifetime_s - sa->cfg.child_lifetime_s / 10;
	if (eng_queue(sa, &a, NULL, 0, NULL) < 0) {
		secret_free(&c->encr_out); secret_free(&c->encr_in);
		secret_free(&c->integ_out); secret_free(&c->integ_in);
	}
	return 0;
}

static int install(struct ike_sa *sa, const struct ike_message *in, uint16_t encr,
		   uint16_t bits, uint16_t integ, bool esn, uint32_t spi_out)
{
	struct ike_action a;
	const struct ike_payload *p;
	struct pvpn_err err;
	int rc;

	if ((rc = ike_suite_init_esp(&sa->esp, encr, bits, integ, 0, &err)) < 0) {
		fail_after_auth(sa, IKE_ERR_NEGOTIATION_FAILED, err.msg);
		return 0;
	}
	if ((rc = ike_child_keys_derive(sa->suite.prf, &sa->keys.sk_d, &sa->esp, NULL, sa->ni,
					sizeof(sa->ni), sa->nr, sa->nr_len, &sa->ck)) < 0) {
		fail_after_auth(sa, IKE_ERR_CONFIGURATION_FAILED, "Child SA key derivation failed");
		return 0;
	}
	sa->spi_out = spi_out;
	sa->esp_esn = esn;
	sa->n_ts_l = wire_ts_to_cfg(ike_message_find(in, IKE_PT_TSI, NULL), sa->ts_l);
	sa->n_ts_r = wire_ts_to_cfg(ike_message_find(in, IKE_PT_TSR, NULL), sa->ts_r);
	if (!sa->n_ts_l || !sa->n_ts_r) {
		fail_after_auth(sa, IKE_ERR_TS_UNACCEPTABLE, "the server's traffic selectors "
				"hold no IPv4 or IPv6 range");
		return 0;
	}
	if (!ts_all_inside(sa, true, sa->ts_l, sa->n_ts_l) ||
	    !ts_all_inside(sa, false, sa->ts_r, sa->n_ts_r)) {
		fail_after_auth(sa, IKE_ERR_TS_UNACCEPTABLE, "the server's traffic selectors "
				"are wider than the ones we proposed");
		return 0;
	}
	eng_request_clear(sa);
	sa->child_up = true;
	sa->state = ST_ESTABLISHED;
	sa->peer_mid = 0;
	eng_keylog(sa);

	if ((p = ike_message_find(in, IKE_PT_CP, NULL)) && p->u.cp.cfg_type == IKE_CFG_REPLY) {
		memset(&a, 0, sizeof(a));
		a.type = IKE_ACT_CONFIG;
		cp_reply(p, &a.u.config);
		eng_queue(sa, &a, NULL, 0, NULL);
	}

	if (eng_queue_install_child(sa, false, sa->spi_in, sa->spi_out, &sa->esp, esn,
				    &sa->ck) < 0) {
		sa->child_up = false;
		fail_after_auth(sa, IKE_ERR_CONFIGURATION_FAILED, "out of memory");
		return 0;
	}
	eng_status(sa, IKE_STATUS_CONNECTED, IKE_ERR_NONE, "Child SA %08x/%08x%s",
		   (unsigned)sa->spi_in, (unsigned)sa->spi_out, eng_encap(sa) ? " (UDP-encapsulated)" : "");
	return 0;
}

int eng_auth_response(struct ike_sa *sa, uint8_t *buf, size_t len, uint64_t now_ms)
{
	struct ike_message *in = sa->m_inner;
	const struct ike_payload *pauth, *pid, *psa, *p;
	struct pvpn_err err;
	char why[160], nb[32];
	uint16_t encr, bits, integ, err_notify = 0;
	uint32_t spi_out;
	bool esn;
	size_t from = 0;
	int rc;

	if (sa->state != ST_AUTH_SENT)
		return -EINVAL;
	if ((rc = ike_message_parse(sa->m_outer, buf, len, &err)) < 0)
		return rc;
	if (ike_message_find(sa->m_outer, IKE_PT_SKF, NULL)) {
		/* RFC 7383: we announce fragmentation but cannot reassemble
		 * yet; say so instead of a bare timeout. */
		snprintf(sa->last_reject, sizeof(sa->last_reject), "the server fragmented its "
			 "IKE_AUTH response (RFC 7383), which pvpn cannot reassemble yet");
		log_msg(LOG_WARNING, sa->cfg.log_name, "IKE: %s", sa->last_reject);
		return -EOPNOTSUPP;
	}
	if ((rc = eng_open(&sa->suite, &sa->keys.sk_er, &sa->keys.sk_ar, buf, len, sa->m_outer,
			   in, &err)) < 0) {
		log_msg(LOG_DEBUG, sa->cfg.log_name, "IKE: bad IKE_AUTH response: %s", err.msg);
		return rc;
	}
	while ((p = ike_message_find(in, IKE_PT_NOTIFY, &from)))
		if (p->u.notify.type < 16384 && !err_notify)
			err_notify = p->u.notify.type;

	/* EAP rounds (§2.16): the server proved itself in its first response. */
	if (eng_auth_in_eap(sa)) {
		if (!ike_message_find(in, IKE_PT_EAP, NULL) && err_notify) {
			eng_close(sa, err_notify == IKE_N_AUTHENTICATION_FAILED ?
				  IKE_ERR_AUTHENTICATION_FAILED : eng_notify_error(err_notify),
				  "the server sent %s", eng_notify_label(err_notify, nb, sizeof(nb)));
			return 0;
		}
		eng_auth_eap(sa, in, now_ms);
		return 0;
	}
	pauth = ike_message_find(in, IKE_PT_AUTH, NULL);
	if (!pauth && eng_auth_eap_only(sa, in, now_ms))
		return 0;
	if (!pauth) {
		/* §2.21.2: the IKE SA failed; the notify says why. */
		enum ike_error e = eng_notify_error(err_notify);
		if (err_notify == IKE_N_AUTHENTICATION_FAILED)
			e = sa->cfg.auth == IKE_CRED_CERT ? IKE_ERR_CLIENT_CERT_REJECTED :
			    IKE_ERR_AUTHENTICATION_FAILED;
		if (err_notify)
			eng_close(sa, e, "the server sent %s", eng_notify_label(err_notify, nb, sizeof(nb)));
		else
			eng_close(sa, IKE_ERR_PROTOCOL_ERROR, "IKE_AUTH response without AUTH");
		return 0;
	}
	/* Identity and AUTH before anything else in the message (§2.15).  The
	 * last response after EAP carries no IDr (§2.16). */
	pid = ike_message_find(in, IKE_PT_IDR, NULL);
	if (pid && sa->cfg.remote_id.type && !id_matches(&sa->cfg.remote_id, &pid->u.id)) {
		fail_after_auth(sa, eng_auth_server_cert(sa) ? IKE_ERR_SERVER_IDENTITY_MISMATCH :
				IKE_ERR_AUTHENTICATION_FAILED, "the server's identity is not "
				"the configured remote identity");
		return 0;
	}
	if (eng_auth_verify_server(sa, in, pid, pauth) < 0)
		return 0;
	if (eng_auth_in_eap(sa)) {
		eng_auth_eap(sa, in, now_ms);
		return 0;
	}
	/* Authenticated.  Now the Child SA. */
	if (err_notify) {
		snprintf(why, sizeof(why), "the server refused the Child SA: %s",
			 eng_notify_label(err_notify, nb, sizeof(nb)));
		fail_after_auth(sa, eng_notify_error(err_notify), why);
		return 0;
	}
	psa = ike_message_find(in, IKE_PT_SA, NULL);
	if (!psa || !ike_message_find(in, IKE_PT_TSI, NULL) || !ike_message_find(in, IKE_PT_TSR, NULL)) {
		fail_after_auth(sa, IKE_ERR_PROTOCOL_ERROR, "IKE_AUTH response without SA, TSi or TSr");
		return 0;
	}
	if (eng_check_child_choice(sa, &psa->u.sa, &encr, &bits, &integ, &esn, &spi_out,
				   why, sizeof(why)) < 0) {
		fail_after_auth(sa, IKE_ERR_NEGOTIATION_FAILED, why);
		return 0;
	}
	eng_mobike_auth_done(sa, in);
	rc = install(sa, in, encr, bits, integ, esn, spi_out);
	if (sa->state == ST_ESTABLISHED)
		eng_reauth_notify(sa, in, now_ms);   /* RFC 4478 */
	return rc;
}
