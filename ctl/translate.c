/* translate.c — the only place that knows all three rooms' structs: the
 * profile becomes the engine's config, the engine's Child SA becomes
 * kernel-xfrm's SAs and policies. */
#include "ctl/ctl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

void ctl_sockaddr_to_xfrm(const struct sockaddr_storage *ss, struct xfrm_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (ss->ss_family == AF_INET) {
		out->family = AF_INET;
		out->v4 = ((const struct sockaddr_in *)ss)->sin_addr;
	} else if (ss->ss_family == AF_INET6) {
		out->family = AF_INET6;
		out->v6 = ((const struct sockaddr_in6 *)ss)->sin6_addr;
	}
}

static void id_from_prof(const struct prof_id *in, struct ike_id *out)
{
	memset(out, 0, sizeof(*out));
	out->type = (uint8_t)in->type;
	size_t n = in->data_len < IKE_CFG_MAX_ID_LEN ? in->data_len : IKE_CFG_MAX_ID_LEN;
	memcpy(out->data, in->data, n);
	out->len = (uint16_t)n;
}

/* Without a LocalIdentifier, pvpn identifies itself by the address it
 * talks from, as most IKEv2 clients do (RFC 7296 §3.5 ID_IPV4_ADDR). */
static void id_from_addr(const struct sockaddr_storage *ss, struct ike_id *out)
{
	memset(out, 0, sizeof(*out));
	if (ss->ss_family == AF_INET) {
		out->type = 1;
		out->len = 4;
		memcpy(out->data, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else {
		out->type = 5;
		out->len = 16;
		memcpy(out->data, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	}
}

static void proposal_from_prof(const struct prof_proposal *in, bool ike, bool pfs,
			       struct ike_cfg_proposal *out)
{
	memset(out, 0, sizeof(*out));
	out->n_encr = 1;
	out->encr[0].id = in->encr;
	/* RFC 7634 §3: ChaCha20-Poly1305 carries no Key Length attribute. */
	out->encr[0].key_bits = in->encr == PROF_ENCR_CHACHA20_POLY1305 ? 0 : in->encr_keybits;
	if (in->integ != PROF_AUTH_NONE) {
		out->n_integ = 1;
		out->integ[0] = in->integ;
	}
	if (ike && in->prf != PROF_PRF_NONE) {
		out->n_prf = 1;
		out->prf[0] = in->prf;
	}
	if (ike || pfs) {
		size_t n = in->n_dh < IKE_CFG_MAX_ALGS ? in->n_dh : IKE_CFG_MAX_ALGS;
		for (size_t i = 0; i < n; i++)
			out->dh[i] = in->dh[i];
		out->n_dh = (uint8_t)n;
	}
	if (!ike) {
		out->n_esn = 1;
		out->esn[0] = 0;
	}
}

static void ts_from_prof(const struct prof_ts *in, struct ike_cfg_ts *out)
{
	memset(out, 0, sizeof(*out));
	out->type = in->family == AF_INET6 ? IKE_TS_IPV6 : IKE_TS_IPV4;
	out->ip_proto = in->proto;
	out->start_port = in->port_lo;
	out->end_port = in->port_hi;
	memcpy(out->start, in->start, 16);
	memcpy(out->end, in->end, 16);
}

void ctl_ts_to_prof(const struct ike_cfg_ts *in, struct prof_ts *out)
{
	memset(out, 0, sizeof(*out));
	out->family = in->type == IKE_TS_IPV6 ? AF_INET6 : AF_INET;
	out->proto = in->ip_proto;
	out->port_lo = in->start_port;
	out->port_hi = in->end_port;
	memcpy(out->start, in->start, 16);
	memcpy(out->end, in->end, 16);
}

int ctl_translate_auth(const struct prof_profile *p, struct ike_config *cfg, struct pvpn_err *e);

int ctl_translate_config(const struct prof_profile *p, const struct sockaddr_storage *local,
			 const struct sockaddr_storage *remote, uint32_t reqid,
			 struct ike_config *cfg, struct pvpn_err *e)
{
	int rc;
	ike_config_init(cfg);
	memcpy(&cfg->local, local, sizeof(*local));
	memcpy(&cfg->remote, remote, sizeof(*remote));

	if (p->local_id.type != PROF_ID_NONE) {
		if (p->local_id.data_is_text)
			return err_set(e, -ENOTSUP, "LocalIdentifier: distinguished names are not "
				       "supported yet; use fqdn:, email:, keyid: or an address");
		id_from_prof(&p->local_id, &cfg->local_id);
	} else {
		id_from_addr(local, &cfg->local_id);
	}
	/* IDr is sent, and the responder's ID checked, only when the profile
	 * names it explicitly (RFC 7296 §3.5: IDr is optional). */
	if (p->remote_id_explicit && p->remote_id.type != PROF_ID_NONE) {
		if (p->remote_id.data_is_text)
			return err_set(e, -ENOTSUP, "RemoteIdentifier: distinguished names are not "
				       "supported yet");
		id_from_prof(&p->remote_id, &cfg->remote_id);
	}

	if (p->auth_method == PROF_AUTH_METHOD_SHARED_SECRET && !p->use_eap) {
		cfg->auth = IKE_CRED_PSK;
		rc = secret_dup(&cfg->psk, &p->shared_secret);
		if (rc < 0)
			return err_set(e, rc, "out of memory");
	} else if (p->auth_method == PROF_AUTH_METHOD_SHARED_SECRET) {
		return err_set(e, -ENOTSUP, "UseExtendedAuthentication with a shared secret is "
			       "not supported: use AuthenticationMethod = None with "
			       "ServerCertificateAuthorityFile");
	}
	/* Certificates and EAP: translate_auth.c. */
	if ((rc = ctl_translate_auth(p, cfg, e)) < 0)
		return rc;

	size_t n = p->n_ike_proposals < IKE_CFG_MAX_PROPOSALS ? p->n_ike_proposals : IKE_CFG_MAX_PROPOSALS;
	for (size_t i = 0; i < n; i++)
		proposal_from_prof(&p->ike_proposals[i], true, false, &cfg->ike_proposals[i]);
	cfg->n_ike_proposals = n;
	n = p->n_child_proposals < IKE_CFG_MAX_PROPOSALS ? p->n_child_proposals : IKE_CFG_MAX_PROPOSALS;
	for (size_t i = 0; i < n; i++)
		proposal_from_prof(&p->child_proposals[i], false, p->enable_pfs,
				   &cfg->child_proposals[i]);
	cfg->n_child_proposals = n;
	cfg->pfs = p->enable_pfs;

	struct prof_ts_proposal tsp;
	rc = prof_route_proposal(p, &tsp, e);
	if (rc < 0)
		return rc;
	if (tsp.n_tsi > IKE_CFG_MAX_TS || tsp.n_tsr > IKE_CFG_MAX_TS)
		return err_set(e, -E2BIG, "the profile's routes need %zu/%zu traffic selectors; "
			       "at most %d fit", tsp.n_tsi, tsp.n_tsr, IKE_CFG_MAX_TS);
	for (size_t i = 0; i < tsp.n_tsi; i++)
		ts_from_prof(&tsp.tsi[i], &cfg->ts_local[i]);
	cfg->n_ts_local = tsp.n_tsi;
	for (size_t i = 0; i < tsp.n_tsr; i++)
		ts_from_prof(&tsp.tsr[i], &cfg->ts_remote[i]);
	cfg->n_ts_remote = tsp.n_tsr;

	cfg->want_vip4 = true;
	cfg->want_vip6 = true;
	cfg->want_dns = p->dns_mode != PROF_DNS_OFF;
	cfg->want_domains = p->dns_mode != PROF_DNS_OFF;

	cfg->ike_lifetime_s = p->ike_lifetime_s;
	cfg->child_lifetime_s = p->child_lifetime_s;
	cfg->rekey_margin_s = p->rekey_margin_s;
	cfg->dpd_interval_ms = prof_dpd_seconds(p->dpd_rate) * 1000u;
	cfg->disable_mobike = p->disable_mobike;
	cfg->reqid = reqid;
	cfg->log_name = p->name[0] ? p->name : NULL;
	return 0;
}

static int set_alg(struct xfrm_alg *a, const char *name, unsigned bits,
		   const struct secret *key)
{
	if (strlen(name) >= sizeof(a->name))
		return -ENAMETOOLONG;
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->bits = bits;
	a->key = key->data;
	a->key_len = key->len;
	return 0;
}

int ctl_translate_sa(const struct ike_act_child *c, bool inbound, struct xfrm_sa *out,
		     struct pvpn_err *e)
{
	memset(out, 0, sizeof(*out));
	const struct ctl_esp_encr *en = ctl_esp_encr_lookup(c->encr_id);
	if (!en)
		return err_set(e, -ENOTSUP, "no kernel name known for ESP encryption "
			       "transform %u", c->encr_id);
	const struct secret *ek = inbound ? &c->encr_in : &c->encr_out;
	const struct secret *ik = inbound ? &c->integ_in : &c->integ_out;
	if (en->aead) {
		set_alg(&out->aead, en->kernel, en->icv_bits, ek);
	} else {
		set_alg(&out->enc, en->kernel, 0, ek);
		const struct ctl_esp_integ *in = ctl_esp_integ_lookup(c->integ_id);
		if (!in)
			return err_set(e, -ENOTSUP, "no kernel name known for ESP integrity "
				       "transform %u", c->integ_id);
		set_alg(&out->auth, in->kernel, in->trunc_bits, ik);
	}
	if (inbound) {
		ctl_sockaddr_to_xfrm(&c->remote, &out->src);
		ctl_sockaddr_to_xfrm(&c->local, &out->dst);
		out->spi = c->spi_in;
		out->replay_window = 32;
	} else {
		ctl_sockaddr_to_xfrm(&c->local, &out->src);
		ctl_sockaddr_to_xfrm(&c->remote, &out->dst);
		out->spi = c->spi_out;
	}
	out->proto = c->proto ? c->proto : IPPROTO_ESP;
	out->mode = XFRM_SA_TUNNEL;
	out->reqid = c->reqid;
	out->esn = c->esn;
	out->lifetime.soft_add_seconds = c->soft_lifetime_s;
	out->lifetime.hard_add_seconds = c->hard_lifetime_s;
	if (c->encap) {
		/* RFC 3948: the encapsulation ports as seen by the SA's sender. */
		out->encap.sport = inbound ? c->encap_remote_port : c->encap_local_port;
		out->encap.dport = inbound ? c->encap_local_port : c->encap_remote_port;
	}
	return 0;
}

void ctl_prefix_to_xfrm(const struct prof_prefix *pf, struct xfrm_addr *a, uint8_t *len)
{
	memset(a, 0, sizeof(*a));
	a->family = pf->family;
	if (pf->family == AF_INET)
		memcpy(&a->v4, pf->addr, 4);
	else
		memcpy(&a->v6, pf->addr, 16);
	*len = pf->len;
}

int ctl_translate_policies(const struct ike_act_child *c, uint32_t priority,
			   struct xfrm_policy *out, size_t max, size_t *n_out,
			   struct pvpn_err *e)
{
	size_t n = 0;
	struct xfrm_addr l, r;
	ctl_sockaddr_to_xfrm(&c->local, &l);
	ctl_sockaddr_to_xfrm(&c->remote, &r);
	for (size_t i = 0; i < c->n_ts_local; i++) {
		for (size_t j = 0; j < c->n_ts_remote; j++) {
			const struct ike_cfg_ts *tl = &c->ts_local[i], *tr = &c->ts_remote[j];
			if (tl->type != tr->type)
				continue;
			struct prof_ts pl, pr;
			ctl_ts_to_prof(tl, &pl);
			ctl_ts_to_prof(tr, &pr);
			struct prof_prefix lp[32], rp[32];
			size_t nl = 0, nr = 0;
			if (prof_ts_to_prefixes(&pl, lp, 32, &nl) < 0 ||
			    prof_ts_to_prefixes(&pr, rp, 32, &nr) < 0)
				return err_set(e, -E2BIG, "a negotiated traffic selector needs "
					       "more than 32 prefixes");
			for (size_t a = 0; a < nl; a++) {
				for (size_t b = 0; b < nr; b++) {
					if (n + 3 > max)
						return err_set(e, -E2BIG, "the negotiated traffic "
							       "selectors need more than %zu "
							       "policies", max);
					/* Ports/protocol: a range that is not
					 * "any" and not a single port cannot be a
					 * selector; pvpn proposes "any" anyway. */
					for (int d = 0; d < 3; d++) {
						struct xfrm_policy *p = &out[n++];
						memset(p, 0, sizeof(*p));
						bool in = d != XFRM_DIR_OUT;
						const struct prof_prefix *s = in ? &rp[b] : &lp[a];
						const struct prof_prefix *t = in ? &lp[a] : &rp[b];
						p->sel.family = s->family;
						ctl_prefix_to_xfrm(s, &p->sel.src, &p->sel.src_len);
						ctl_prefix_to_xfrm(t, &p->sel.dst, &p->sel.dst_len);
						p->sel.proto = tl->ip_proto;
						const struct ike_cfg_ts *sp = in ? tr : tl, *dp = in ? tl : tr;
						if (sp->start_port == sp->end_port)
							p->sel.sport = sp->start_port;
						if (dp->start_port == dp->end_port)
							p->sel.dport = dp->start_port;
						p->dir = (enum xfrm_dir)d;
						p->action = XFRM_ACT_ALLOW;
						p->priority = priority;
						p->has_tmpl = true;
						p->tmpl.proto = c->proto ? c->proto : IPPROTO_ESP;
						p->tmpl.mode = XFRM_SA_TUNNEL;
						p->tmpl.reqid = c->reqid;
						p->tmpl.src = in ? r : l;
						p->tmpl.dst = in ? l : r;
					}
				}
			}
		}
	}
	*n_out = n;
	return 0;
}
