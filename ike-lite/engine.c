/* engine.c — the IKE SA object, its action queue, timers and the receive
 * dispatcher.  The exchanges live in exchange_*.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "ike-lite/engine_internal.h"
#include "lib/hex.h"
#include "lib/log.h"

/* ------------------------------------------------------------ config */

void ike_config_init(struct ike_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->natt_port = 4500;
	cfg->auth = IKE_CRED_PSK;
	cfg->want_vip4 = cfg->want_dns = cfg->want_domains = true;
	cfg->ike_lifetime_s = 86400;
	cfg->child_lifetime_s = 3600;
	cfg->natt_keepalive_ms = 20000;
	cfg->retx_first_ms = 1000;
	cfg->retx_max_tries = 6;
	cfg->retx_budget_ms = 40000;
}

void ike_config_clear(struct ike_config *cfg)
{
	secret_free(&cfg->psk);
	secret_free(&cfg->cert);
	secret_free(&cfg->key);
	secret_free(&cfg->ca);
	secret_free(&cfg->crl);
	secret_free(&cfg->eap_password);
}

uint16_t eng_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return 0;
}

void eng_set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

bool eng_same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			      &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
	return false;
}

static int check_proposal(const struct ike_cfg_proposal *p, bool ike, size_t idx,
			  struct pvpn_err *err)
{
	const char *what = ike ? "IKE" : "Child";
	struct ike_suite s;

	if (!p->n_encr || p->n_encr > IKE_CFG_MAX_ALGS || p->n_integ > IKE_CFG_MAX_ALGS ||
	    p->n_prf > IKE_CFG_MAX_ALGS || p->n_dh > IKE_CFG_MAX_ALGS || p->n_esn > 2)
		return err_set(err, -EINVAL, "%s proposal %zu: needs 1 to %d encryption algorithms "
			       "and at most %d of each other kind", what, idx + 1,
			       IKE_CFG_MAX_ALGS, IKE_CFG_MAX_ALGS);
	if (ike && (!p->n_prf || !p->n_dh))
		return err_set(err, -EINVAL, "IKE proposal %zu: needs a PRF and a DH group", idx + 1);
	for (size_t e = 0; e < p->n_encr; e++) {
		uint16_t integ = p->n_integ ? p->integ[0] : 0;
		int rc;
		if (ike)
			rc = ike_suite_init(&s, p->encr[e].id, p->encr[e].key_bits, 0,
					    p->prf[0], p->dh[0], NULL);
		else
			rc = ike_suite_init_esp(&s, p->encr[e].id, p->encr[e].key_bits, 0, 0, NULL);
		if (rc < 0 && integ)
			rc = ike ? ike_suite_init(&s, p->encr[e].id, p->encr[e].key_bits, integ,
						  p->prf[0], p->dh[0], NULL)
				 : ike_suite_init_esp(&s, p->encr[e].id, p->encr[e].key_bits, integ,
						      0, NULL);
		if (rc < 0)
			return err_set(err, -ENOTSUP, "%s proposal %zu: encryption algorithm %u "
				       "(%u bits) is not supported", what, idx + 1,
				       (unsigned)p->encr[e].id, (unsigned)p->encr[e].key_bits);
	}
	if (ike)
		for (size_t d = 0; d < p->n_dh; d++)
			if (!ike_dh_supported(p->dh[d]))
				return err_set(err, -ENOTSUP, "IKE proposal %zu: DH group %u is "
					       "not supported", idx + 1, (unsigned)p->dh[d]);
	return 0;
}

struct ike_sa *ike_sa_new(const struct ike_config *cfg, struct pvpn_err *err)
{
	struct ike_sa *sa = NULL;

	if (!cfg->n_ike_proposals || cfg->n_ike_proposals > IKE_CFG_MAX_PROPOSALS ||
	    !cfg->n_child_proposals || cfg->n_child_proposals > IKE_CFG_MAX_PROPOSALS) {
		err_set(err, -EINVAL, "the engine needs 1 to %d IKE and Child proposals",
			IKE_CFG_MAX_PROPOSALS);
		return NULL;
	}
	for (size_t i = 0; i < cfg->n_ike_proposals; i++)
		if (check_proposal(&cfg->ike_proposals[i], true, i, err) < 0)
			return NULL;
	for (size_t i = 0; i < cfg->n_child_proposals; i++)
		if (check_proposal(&cfg->child_proposals[i], false, i, err) < 0)
			return NULL;
	if (eng_auth_check_config(cfg, err) < 0)
		return NULL;
	if (!cfg->local_id.type || !cfg->local_id.len || cfg->local_id.len > IKE_CFG_MAX_ID_LEN) {
		err_set(err, -EINVAL, "a local identity is required");
		return NULL;
	}
	if (cfg->remote_id.type && (!cfg->remote_id.len || cfg->remote_id.len > IKE_CFG_MAX_ID_LEN)) {
		err_set(err, -EINVAL, "the remote identity is empty");
		return NULL;
	}
	if ((cfg->local.ss_family != AF_INET && cfg->local.ss_family != AF_INET6) ||
	    cfg->local.ss_family != cfg->remote.ss_family) {
		err_set(err, -EINVAL, "local and remote addresses must be set and of the same family");
		return NULL;
	}
	if (cfg->n_ts_local > IKE_CFG_MAX_TS || cfg->n_ts_remote > IKE_CFG_MAX_TS) {
		err_set(err, -EINVAL, "too many traffic selectors (at most %d a side)", IKE_CFG_MAX_TS);
		return NULL;
	}

	sa = calloc(1, sizeof(*sa));
	if (!sa)
		goto nomem;
	sa->cfg = *cfg;
	memset(&sa->cfg.psk, 0, sizeof(sa->cfg.psk));
	memset(&sa->cfg.cert, 0, sizeof(sa->cfg.cert));
	memset(&sa->cfg.key, 0, sizeof(sa->cfg.key));
	memset(&sa->cfg.ca, 0, sizeof(sa->cfg.ca));
	memset(&sa->cfg.crl, 0, sizeof(sa->cfg.crl));
	memset(&sa->cfg.eap_password, 0, sizeof(sa->cfg.eap_password));
	if (secret_dup(&sa->cfg.psk, &cfg->psk) < 0)
		goto nomem;
	if (eng_auth_setup(sa, cfg, err) < 0) {
		ike_sa_free(sa);
		return NULL;
	}
	sa->m_outer = calloc(1, sizeof(*sa->m_outer));
	sa->m_inner = calloc(1, sizeof(*sa->m_inner));
	if (!sa->m_outer || !sa->m_inner)
		goto nomem;

	/* Defaults for zeroes. */
	if (!sa->cfg.natt_port)
		sa->cfg.natt_port = 4500;
	if (!eng_port(&sa->cfg.local))
		eng_set_port(&sa->cfg.local, 500);
	if (!eng_port(&sa->cfg.remote))
		eng_set_port(&sa->cfg.remote, 500);
	if (!sa->cfg.ike_lifetime_s)
		sa->cfg.ike_lifetime_s = 86400;
	if (!sa->cfg.child_lifetime_s)
		sa->cfg.child_lifetime_s = 3600;
	if (!sa->cfg.natt_keepalive_ms)
		sa->cfg.natt_keepalive_ms = 20000;
	if (!sa->cfg.retx_first_ms)
		sa->cfg.retx_first_ms = 1000;
	if (!sa->cfg.retx_max_tries)
		sa->cfg.retx_max_tries = 6;
	if (!sa->cfg.retx_budget_ms)
		sa->cfg.retx_budget_ms = 40000;
	if (cfg->log_name) {
		snprintf(sa->log_name, sizeof(sa->log_name), "%s", cfg->log_name);
		sa->cfg.log_name = sa->log_name;
	}
	sa->rnd = cfg->rand ? cfg->rand : ike_rand_default;
	sa->path.local = sa->cfg.local;
	sa->path.remote = sa->cfg.remote;
	sa->state = ST_IDLE;
	sa->status = IKE_STATUS_DISCONNECTED;
	return sa;
nomem:
	err_set(err, -ENOMEM, "out of memory creating the IKE SA");
	ike_sa_free(sa);
	return NULL;
}

static void qitem_free(struct eng_qitem *it)
{
	if (!it)
		return;
	if (it->buf) {
		secret_wipe(it->buf, it->buf_len);
		free(it->buf);
	}
	if (it->a.type == IKE_ACT_INSTALL_CHILD) {
		secret_free(&it->a.u.install.encr_in);
		secret_free(&it->a.u.install.encr_out);
		secret_free(&it->a.u.install.integ_in);
		secret_free(&it->a.u.install.integ_out);
	}
	free(it);
}

void ike_sa_free(struct ike_sa *sa)
{
	if (!sa)
		return;
	qitem_free(sa->q_cur);
	while (sa->q_head) {
		struct eng_qitem *n = sa->q_head->next;
		qitem_free(sa->q_head);
		sa->q_head = n;
	}
	eng_request_clear(sa);
	eng_life_free(sa);
	ike_dh_free(sa->dh);
	free(sa->init_req);
	free(sa->init_resp);
	if (sa->resp_cache) {
		secret_wipe(sa->resp_cache, sa->resp_cache_len);
		free(sa->resp_cache);
	}
	ike_sa_keys_free(&sa->keys);
	ike_child_keys_free(&sa->ck);
	secret_free(&sa->g_ir);
	secret_free(&sa->skeyseed);
	secret_free(&sa->cfg.psk);
	eng_auth_free(sa);
	free(sa->m_outer);
	free(sa->m_inner);
	secret_wipe(sa, sizeof(*sa));
	free(sa);
}

/* ------------------------------------------------------------ queue */

/* Every entry point first releases the action handed out last time. */
void eng_enter(struct ike_sa *sa)
{
	qitem_free(sa->q_cur);
	sa->q_cur = NULL;
}

int eng_queue(struct ike_sa *sa, const struct ike_action *a, const uint8_t *buf, size_t len,
	      struct eng_qitem **out)
{
	struct eng_qitem *it = calloc(1, sizeof(*it));
	if (!it)
		return -ENOMEM;
	it->a = *a;
	if (buf) {
		it->buf = malloc(len ? len : 1);
		if (!it->buf) {
			free(it);
			return -ENOMEM;
		}
		memcpy(it->buf, buf, len);
		it->buf_len = len;
	}
	if (sa->q_tail)
		sa->q_tail->next = it;
	else
		sa->q_head = it;
	sa->q_tail = it;
	if (out)
		*out = it;
	return 0;
}

bool ike_next_action(struct ike_sa *sa, struct ike_action *out)
{
	eng_enter(sa);
	struct eng_qitem *it = sa->q_head;
	if (!it) {
		memset(out, 0, sizeof(*out));
		return false;
	}
	sa->q_head = it->next;
	if (!sa->q_head)
		sa->q_tail = NULL;
	it->next = NULL;
	sa->q_cur = it;
	*out = it->a;
	/* Pointers into the item's own buffer are set now that it is fixed. */
	if (it->a.type == IKE_ACT_SEND) {
		out->u.send.data = it->buf;
		out->u.send.len = it->buf_len;
	} else if (it->a.type == IKE_ACT_KEYLOG) {
		out->u.keylog.text = (const char *)it->buf;
		out->u.keylog.len = it->buf_len ? it->buf_len - 1 : 0;
	}
	return true;
}

void eng_status(struct ike_sa *sa, enum ike_status st, enum ike_error err, const char *fmt, ...)
{
	struct ike_action a;
	va_list ap;

	memset(&a, 0, sizeof(a));
	a.type = IKE_ACT_STATUS;
	a.u.status.status = st;
	a.u.status.error = err;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(a.u.status.detail, sizeof(a.u.status.detail), fmt, ap);
		va_end(ap);
	}
	sa->status = st;
	/* The daemon reports statuses to the user; here only for debugging. */
	log_msg(LOG_DEBUG, sa->cfg.log_name, "IKE: %s%s%s%s%s", ike_status_name(st),
		err != IKE_ERR_NONE ? ": " : "", err != IKE_ERR_NONE ? ike_error_name(err) : "",
		a.u.status.detail[0] ? ": " : "", a.u.status.detail);
	eng_queue(sa, &a, NULL, 0, NULL);
}

void eng_queue_remove_child(struct ike_sa *sa, uint32_t spi_in, uint32_t spi_out, bool old_only)
{
	struct ike_action a;

	memset(&a, 0, sizeof(a));
	a.type = IKE_ACT_REMOVE_CHILD;
	a.u.remove.spi_in = spi_in;
	a.u.remove.spi_out = spi_out;
	/* The SAs are keyed by address, not port. */
	a.u.remove.local = sa->cfg.local;
	a.u.remove.remote = sa->cfg.remote;
	eng_set_port(&a.u.remove.local, 0);
	eng_set_port(&a.u.remove.remote, 0);
	a.u.remove.proto = IPPROTO_ESP;
	a.u.remove.reqid = sa->cfg.reqid;
	a.u.remove.old_only = old_only;
	eng_queue(sa, &a, NULL, 0, NULL);
}

void eng_close(struct ike_sa *sa, enum ike_error err, const char *fmt, ...)
{
	char detail[IKE_DETAIL_MAX] = "";
	va_list ap;

	if (sa->state == ST_CLOSED)
		return;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
	}
	if (sa->have_keys && !sa->keylog_done)
		eng_keylog(sa);
	eng_request_clear(sa);
	eng_life_free(sa);
	if (sa->child_up) {
		eng_queue_remove_child(sa, sa->spi_in, sa->spi_out, false);
		sa->child_up = false;
	}
	ike_child_keys_free(&sa->ck);
	ike_sa_keys_free(&sa->keys);
	ike_dh_free(sa->dh);
	sa->dh = NULL;
	sa->state = ST_CLOSED;
	sa->fail_error = err;
	eng_status(sa, IKE_STATUS_DISCONNECTED, err, "%s", detail);
}

/* --------------------------------------------------------- key log */

static void kl_line(char *out, size_t cap, size_t *pos, const char *name,
		    const uint8_t *p, size_t len)
{
	int n;
	if (!p || !len || *pos >= cap)
		return;
	n = snprintf(out + *pos, cap - *pos, "%s=", name);
	if (n < 0 || (size_t)n >= cap - *pos)
		return;
	*pos += (size_t)n;
	if (cap - *pos < 2 * len + 2)
		return;
	hex_encode(out + *pos, cap - *pos, p, len);
	*pos += 2 * len;
	out[(*pos)++] = '\n';
	out[*pos] = '\0';
}

/* One block per IKE SA in ikedump's key file format: spi_i/spi_r first,
 * then the IKE SA's keys and, once it exists, the Child SA's. */
void eng_keylog(struct ike_sa *sa)
{
	struct ike_action a;
	size_t cap = 16384, pos = 0;
	char *t = calloc(1, cap);

	if (!t)
		return;
	kl_line(t, cap, &pos, "spi_i", sa->spi_i, 8);
	kl_line(t, cap, &pos, "spi_r", sa->spi_r, 8);
	kl_line(t, cap, &pos, "dh_shared", sa->g_ir.data, sa->g_ir.len);
	kl_line(t, cap, &pos, "skeyseed", sa->skeyseed.data, sa->skeyseed.len);
	kl_line(t, cap, &pos, "sk_d", sa->keys.sk_d.data, sa->keys.sk_d.len);
	kl_line(t, cap, &pos, "sk_ai", sa->keys.sk_ai.data, sa->keys.sk_ai.len);
	kl_line(t, cap, &pos, "sk_ar", sa->keys.sk_ar.data, sa->keys.sk_ar.len);
	kl_line(t, cap, &pos, "sk_ei", sa->keys.sk_ei.data, sa->keys.sk_ei.len);
	kl_line(t, cap, &pos, "sk_er", sa->keys.sk_er.data, sa->keys.sk_er.len);
	kl_line(t, cap, &pos, "sk_pi", sa->keys.sk_pi.data, sa->keys.sk_pi.len);
	kl_line(t, cap, &pos, "sk_pr", sa->keys.sk_pr.data, sa->keys.sk_pr.len);
	if (sa->child_up) {
		kl_line(t, cap, &pos, "esp_enc_i", sa->ck.encr_i.data, sa->ck.encr_i.len);
		kl_line(t, cap, &pos, "esp_enc_r", sa->ck.encr_r.data, sa->ck.encr_r.len);
		kl_line(t, cap, &pos, "esp_integ_i", sa->ck.integ_i.data, sa->ck.integ_i.len);
		kl_line(t, cap, &pos, "esp_integ_r", sa->ck.integ_r.data, sa->ck.integ_r.len);
	}
	if (pos + 2 <= cap) {
		t[pos++] = '\n';
		t[pos] = '\0';
	}
	memset(&a, 0, sizeof(a));
	a.type = IKE_ACT_KEYLOG;
	eng_queue(sa, &a, (const uint8_t *)t, pos + 1, NULL);
	secret_wipe(t, cap);
	free(t);
	sa->keylog_done = true;
	secret_free(&sa->g_ir);
	secret_free(&sa->skeyseed);
}

/* ------------------------------------------------------------ inputs */

int ike_connect(struct ike_sa *sa, uint64_t now_ms)
{
	eng_enter(sa);
	if (sa->state != ST_IDLE)
		return -EALREADY;
	eng_status(sa, IKE_STATUS_CONNECTING, IKE_ERR_NONE, NULL);
	return eng_init_start(sa, now_ms);
}

int ike_disconnect(struct ike_sa *sa, uint64_t now_ms)
{
	eng_enter(sa);
	switch (sa->state) {
	case ST_IDLE:
	case ST_CLOSED:
		return -ENOTCONN;
	case ST_DELETING:
		return 0;
	case ST_ESTABLISHED:
		sa->state = ST_DELETING;
		eng_status(sa, IKE_STATUS_DISCONNECTING, IKE_ERR_NONE, NULL);
		/* §2.3: window of one.  A liveness check in flight finishes
		 * (answered or given up) before the DELETE goes out. */
		if (sa->req.kind != REQ_NONE) {
			sa->delete_pending = true;
			return 0;
		}
		if (eng_send_info_request(sa, REQ_DELETE, now_ms) < 0)
			eng_close(sa, IKE_ERR_NONE, "disconnected (DELETE could not be built)");
		return 0;
	default:
		/* Not established yet: nothing on the peer to delete that we
		 * could authenticate a DELETE for (§1.4.1 needs the IKE SA). */
		eng_close(sa, IKE_ERR_NONE, "connection attempt cancelled");
		return 0;
	}
}

int ike_spi_allocated(struct ike_sa *sa, uint32_t spi, uint64_t now_ms)
{
	eng_enter(sa);
	/* A rekey (ours or the server's) waiting for its new inbound SPI. */
	if (sa->state != ST_WAIT_SPI && eng_life_spi_allocated(sa, spi, now_ms))
		return 0;
	if (sa->state != ST_WAIT_SPI)
		return -EINVAL;
	if (!spi) {
		eng_close(sa, IKE_ERR_CONFIGURATION_FAILED, "the kernel could not allocate an SPI");
		return -EIO;
	}
	sa->spi_in = spi;
	return eng_auth_start(sa, now_ms);
}

static int drop(struct ike_sa *sa, int rc, const char *why)
{
	sa->stats.rx_dropped++;
	log_msg(LOG_DEBUG, sa->cfg.log_name, "IKE: dropped a datagram: %s", why);
	return rc;
}

int ike_receive(struct ike_sa *sa, const uint8_t *dgram, size_t len,
		const struct ike_path *path, uint64_t now_ms)
{
	struct ike_header h;
	uint8_t *buf = NULL;
	uint64_t cached;
	int rc;

	eng_enter(sa);
	if (sa->state == ST_IDLE || sa->state == ST_CLOSED)
		return drop(sa, -ENOTCONN, "no IKE SA in progress");
	if (path && eng_port(&path->local) == sa->cfg.natt_port) {
		/* RFC 3948 §2.2: IKE on the NAT-T port carries a zero marker. */
		if (len == 1 && dgram[0] == 0xff)
			return drop(sa, -EBADMSG, "NAT keepalive");
		if (len < ENG_NON_ESP_MARKER || dgram[0] || dgram[1] || dgram[2] || dgram[3])
			return drop(sa, -EBADMSG, "no non-ESP marker on the NAT-T port");
		dgram += ENG_NON_ESP_MARKER;
		len -= ENG_NON_ESP_MARKER;
	}
	if (path && !eng_same_addr(&path->remote, &sa->cfg.remote))
		return drop(sa, -EINVAL, "not from the server's address");
	if (eng_peek_header(dgram, len, &h) < 0)
		return drop(sa, -EBADMSG, "not an IKEv2 message");
	/* The IKE SA a rekey just replaced (exchange_rekey_ike.c). */
	if (eng_old_ike_match(sa, &h))
		return eng_old_ike_receive(sa, dgram, len, &h, now_ms);
	if (memcmp(h.spi_i, sa->spi_i, 8) != 0)
		return drop(sa, -ENOENT, "unknown initiator SPI");
	/* §3.1: the peer sets I only when it started this IKE SA (§2.18). */
	if (!!(h.flags & IKE_FLAG_I) != sa->life.peer_initiated)
		return drop(sa, -EBADMSG, "the I flag does not match the IKE SA's roles");

	/* A private copy: SK is decrypted in place. */
	cached = sa->stats.cached_responses;
	buf = malloc(len);
	if (!buf)
		return drop(sa, -ENOMEM, "out of memory");
	memcpy(buf, dgram, len);

	if (h.flags & IKE_FLAG_R) {
		/* §2.21.4: a restarted server's unprotected INVALID_IKE_SPI
		 * only shortens the wait (dpd.c). */
		if (eng_invalid_spi_hint(sa, &h, buf, len, now_ms)) {
			rc = drop(sa, -EAGAIN, "unprotected INVALID_IKE_SPI (a hint only)");
			goto out;
		}
		/* A response: only to the request outstanding (§2.3), never
		 * answered (§2.21). */
		if (sa->req.kind == REQ_NONE || h.message_id != sa->req.mid ||
		    h.exchange != sa->req.exch) {
			rc = drop(sa, -EINVAL, "a response to no outstanding request");
			goto out;
		}
		/* After IKE_SA_INIT the responder's SPI is fixed (§2.6). */
		if (sa->req.kind != REQ_INIT && memcmp(h.spi_r, sa->spi_r, 8) != 0) {
			rc = drop(sa, -ENOENT, "unknown responder SPI");
			goto out;
		}
		switch (sa->req.kind) {
		case REQ_INIT:
			rc = eng_init_response(sa, buf, len, path, now_ms);
			break;
		case REQ_AUTH:
			rc = eng_auth_response(sa, buf, len, now_ms);
			break;
		case REQ_REKEY_CHILD:
			rc = eng_rekey_response(sa, buf, len, now_ms);
			break;
		case REQ_DELETE_CHILD:
			rc = eng_delete_child_response(sa, buf, len, now_ms);
			break;
		case REQ_REKEY_IKE:
			rc = eng_rekey_ike_response(sa, buf, len, now_ms);
			break;
		case REQ_MOBIKE:
			rc = eng_mobike_response(sa, buf, len, path, now_ms);
			break;
		default:
			rc = eng_info_response(sa, buf, len, now_ms);
			break;
		}
	} else {
		/* A request from the responder: only on an established SA. */
		if (sa->state != ST_ESTABLISHED && sa->state != ST_DELETING) {
			rc = drop(sa, -EINVAL, "a request before the IKE SA is established");
			goto out;
		}
		if (memcmp(h.spi_r, sa->spi_r, 8) != 0) {
			rc = drop(sa, -ENOENT, "unknown responder SPI");
			goto out;
		}
		rc = eng_info_request(sa, buf, len, now_ms);
	}
	if (rc < 0)
		sa->stats.rx_dropped++;
	else {
		sa->stats.rx_ok++;
		sa->last_rx_ms = now_ms;
		/* §2.23: a server behind a NAT may come from a new port. */
		if (sa->stats.cached_responses == cached)
			eng_mobike_seen(sa, path);
	}
	/* A path change waiting for the window (mobike.c). */
	eng_mobike_tick(sa, now_ms);
	/* The first pair just came up: plan its rekey (§2.8). */
	if (sa->child_up && sa->state == ST_ESTABLISHED && !sa->life.rekey_ms &&
	    sa->life.rk == RK_IDLE)
		eng_life_child_installed(sa, now_ms);
out:
	secret_wipe(buf, len);
	free(buf);
	return rc;
}

void ike_tick(struct ike_sa *sa, uint64_t now_ms)
{
	eng_enter(sa);
	if (sa->state == ST_IDLE || sa->state == ST_CLOSED)
		return;
	eng_request_tick(sa, now_ms);
	if (sa->state != ST_ESTABLISHED)
		return;
	/* A path change first: the other exchanges wait behind it (mobike.c). */
	eng_mobike_tick(sa, now_ms);
	if (sa->state != ST_ESTABLISHED)
		return;
	eng_life_tick(sa, now_ms);
	/* RFC 3948 §4: keep the NAT mapping while we are quiet (only with a
	 * NAT: MOBIKE puts IKE on port 4500 without one, RFC 4555 §3.3). */
	if (sa->natt && eng_encap(sa) && sa->last_tx_ms + sa->cfg.natt_keepalive_ms <= now_ms) {
		struct ike_action a;
		static const uint8_t ka = 0xff;
		memset(&a, 0, sizeof(a));
		a.type = IKE_ACT_SEND;
		a.u.send.path = sa->path;
		a.u.send.keepalive = true;
		if (eng_queue(sa, &a, &ka, 1, NULL) == 0)
			sa->last_tx_ms = now_ms;
	}
	/* RFC 7296 §2.4: a liveness check when we heard nothing for a while. */
	if (sa->cfg.dpd_interval_ms && sa->req.kind == REQ_NONE && !sa->mob.wanted &&
	    sa->last_rx_ms + sa->cfg.dpd_interval_ms <= now_ms)
		eng_send_info_request(sa, REQ_DPD, now_ms);
}

uint64_t ike_next_deadline(const struct ike_sa *sa)
{
	uint64_t d = 0;
#define EARLIER(t) do { uint64_t t_ = (t); if (!d || t_ < d) d = t_; } while (0)
	if (sa->state == ST_IDLE || sa->state == ST_CLOSED)
		return 0;
	if (sa->req.kind != REQ_NONE)
		EARLIER(sa->req.next_ms);
	if (sa->state == ST_ESTABLISHED) {
		if (sa->natt && eng_encap(sa))
			EARLIER(sa->last_tx_ms + sa->cfg.natt_keepalive_ms);
		if (sa->cfg.dpd_interval_ms && sa->req.kind == REQ_NONE && !sa->mob.wanted)
			EARLIER(sa->last_rx_ms + sa->cfg.dpd_interval_ms);
		if (eng_mobike_deadline(sa))
			EARLIER(eng_mobike_deadline(sa));
		if (eng_life_deadline(sa))
			EARLIER(eng_life_deadline(sa));
	}
#undef EARLIER
	return d;
}

enum ike_status ike_get_status(const struct ike_sa *sa)
{
	return sa->status;
}

void ike_get_stats(const struct ike_sa *sa, struct ike_stats *out)
{
	*out = sa->stats;
}

const char *ike_status_name(enum ike_status s)
{
	switch (s) {
	case IKE_STATUS_DISCONNECTED: return "disconnected";
	case IKE_STATUS_CONNECTING: return "connecting";
	case IKE_STATUS_CONNECTED: return "connected";
	case IKE_STATUS_DISCONNECTING: return "disconnecting";
	}
	return "unknown";
}

const char *ike_error_name(enum ike_error e)
{
	switch (e) {
	case IKE_ERR_NONE: return "no error";
	case IKE_ERR_SERVER_NOT_RESPONDING: return "server not responding";
	case IKE_ERR_AUTHENTICATION_FAILED: return "authentication failed";
	case IKE_ERR_NEGOTIATION_FAILED: return "negotiation failed";
	case IKE_ERR_TS_UNACCEPTABLE: return "traffic selectors unacceptable";
	case IKE_ERR_INTERNAL_ADDRESS_FAILURE: return "internal address failure";
	case IKE_ERR_CONFIGURATION_FAILED: return "configuration failed";
	case IKE_ERR_SERVER_DISCONNECTED: return "server disconnected";
	case IKE_ERR_SERVER_DEAD: return "server dead";
	case IKE_ERR_PROTOCOL_ERROR: return "protocol error";
	case IKE_ERR_SERVER_CERT_INVALID: return "server certificate invalid";
	case IKE_ERR_SERVER_CERT_EXPIRED: return "server certificate expired";
	case IKE_ERR_SERVER_CERT_NOT_YET_VALID: return "server certificate not yet valid";
	case IKE_ERR_SERVER_IDENTITY_MISMATCH: return "server identity mismatch";
	case IKE_ERR_CLIENT_CERT_REJECTED: return "client certificate rejected";
	}
	return "unknown error";
}

enum ike_error eng_notify_error(uint16_t type)
{
	switch (type) {
	case IKE_N_AUTHENTICATION_FAILED:
	case IKE_N_AUTHORIZATION_FAILED:
		return IKE_ERR_AUTHENTICATION_FAILED;
	case IKE_N_NO_PROPOSAL_CHOSEN:
	case IKE_N_INVALID_KE_PAYLOAD:
	case IKE_N_SINGLE_PAIR_REQUIRED:
	case IKE_N_NO_ADDITIONAL_SAS:
		return IKE_ERR_NEGOTIATION_FAILED;
	case IKE_N_TS_UNACCEPTABLE:
	case IKE_N_INVALID_SELECTORS:
		return IKE_ERR_TS_UNACCEPTABLE;
	case IKE_N_INTERNAL_ADDRESS_FAILURE:
	case IKE_N_FAILED_CP_REQUIRED:
		return IKE_ERR_INTERNAL_ADDRESS_FAILURE;
	default:
		return IKE_ERR_PROTOCOL_ERROR;
	}
}

const char *eng_notify_label(uint16_t type, char *buf, size_t cap)
{
	const char *n = ike_notify_name(type);
	if (n)
		return n;
	snprintf(buf, cap, "notify %u", (unsigned)type);
	return buf;
}
