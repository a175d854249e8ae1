/* verify.c — pvpn-ikedump --verify: recompute a key schedule from dh_shared
 * and the capture, and compare it with the key file, key by key.
 *
 * Inputs taken from the capture: Ni, Nr and the SPIs (IKE_SA_INIT), the
 * chosen IKE proposal (IKE_SA_INIT response), the chosen ESP proposal of
 * the first Child SA (IKE_AUTH response, decrypted with the recomputed
 * keys).  RFC 7296 §2.14 gives SKEYSEED and SK_*, §2.17 the Child SA's
 * KEYMAT (no PFS in IKE_AUTH). */
#include <errno.h>
#include <string.h>

#include "ike-lite/constants.h"
#include "ike-lite/crypto.h"
#include "ike-lite/message.h"
#include "lib/hex.h"
#include "tools/ikedump/ikedump_int.h"

int ikd_suite_from_sa(const struct ike_sa_body *sa, uint8_t proto, struct ike_suite *s,
		      struct pvpn_err *e)
{
	const struct ike_proposal *pr = NULL;
	uint16_t encr = 0, keybits = 0, integ = 0, prf = 0, dh = 0;
	bool have_encr = false;

	memset(s, 0, sizeof(*s));
	err_clear(e);
	for (size_t i = 0; i < sa->nprops; i++) {
		if (sa->props[i].protocol != proto)
			continue;
		if (pr)
			return err_set(e, -EINVAL, "the response's SA payload holds more than one %s "
				       "proposal, so which was chosen is unclear",
				       ike_protocol_name(proto) ? ike_protocol_name(proto) : "?");
		pr = &sa->props[i];
	}
	if (!pr)
		return err_set(e, -EINVAL, "the response's SA payload has no %s proposal",
			       ike_protocol_name(proto) ? ike_protocol_name(proto) : "?");
	for (size_t i = 0; i < pr->nxforms; i++) {
		const struct ike_transform *t = &pr->xforms[i];
		switch (t->type) {
		case IKE_TRANS_ENCR:
			if (!have_encr) {
				encr = t->id;
				keybits = t->key_length;
				have_encr = true;
			}
			break;
		case IKE_TRANS_PRF: if (!prf) prf = t->id; break;
		case IKE_TRANS_INTEG: if (!integ) integ = t->id; break;
		case IKE_TRANS_DH: if (!dh) dh = t->id; break;
		default: break;
		}
	}
	if (!have_encr)
		return err_set(e, -EINVAL, "the chosen proposal has no encryption transform");
	if (proto == IKE_PROTO_IKE)
		return ike_suite_init(s, encr, keybits, integ, prf, dh, e);
	return ike_suite_init_esp(s, encr, keybits, integ, dh, e);
}

struct derived {
	const char *name;
	const struct secret *value;     /* NULL: see why */
	char why[PVPN_ERR_MSG_MAX + 64];
};

static void set_why(struct derived *d, size_t n, const char *name, const char *why)
{
	for (size_t i = 0; i < n; i++)
		if (!name || strcmp(d[i].name, name) == 0)
			if (!d[i].value && !d[i].why[0])
				snprintf(d[i].why, sizeof(d[i].why), "%s", why);
}

static struct derived *find(struct derived *d, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(d[i].name, name) == 0)
			return &d[i];
	return NULL;
}

/* The first Child SA's SA payload in the IKE_AUTH response (resp) or
 * request, decrypted with the recomputed keys (or, if those are wrong,
 * with the file's, which still tell the algorithms and SPIs).  From the
 * response: the chosen ESP suite; from either: the proposal's SPI, which
 * is the receiver's inbound SPI (RFC 7296 §3.3.1) — so the response's is
 * the SA initiator->responder (esp_spi_i), the request's esp_spi_r. */
static int child_sa(struct ikd_ctx *c, size_t sa_idx, bool resp, const struct ike_sa_keys *k,
		    const struct ikd_keyset *ks, struct ike_suite *esp, uint8_t spi[4],
		    struct pvpn_err *e)
{
	const struct ikd_sa *sa = &c->sas[sa_idx];
	bool saw = false;
	struct pvpn_err de = { 0 };
	const char *what = resp ? "response" : "request";

	for (size_t i = 0; i < c->nmsgs; i++) {
		const struct ikd_msg *msg = &c->msgs[i];
		if (msg->parse_rc < 0 || msg->sa != sa_idx || msg->hdr.exchange != IKE_AUTH ||
		    !(msg->hdr.flags & IKE_FLAG_R) != !resp || !msg->has_sk)
			continue;
		saw = true;
		struct ikd_plain pl;
		const char *en = resp ? "sk_er" : "sk_ei", *an = resp ? "sk_ar" : "sk_ai";
		const struct secret *dek = resp ? &k->sk_er : &k->sk_ei;
		const struct secret *dak = resp ? &k->sk_ar : &k->sk_ai;
		int rc = ikd_decrypt(c, msg, &sa->suite, dek, dak, &pl, &de);
		if (rc < 0 && ikd_keyset_get(ks, en)) {
			const struct secret *fak = ikd_keyset_get(ks, an);
			rc = ikd_decrypt(c, msg, &sa->suite, ikd_keyset_get(ks, en), fak ? fak : dak,
					 &pl, &de);
		}
		if (rc < 0)
			continue;
		const struct ike_payload *p = ike_message_find(pl.m, IKE_PT_SA, NULL);
		rc = 0;
		if (p) {
			const struct ike_proposal *pr = NULL;
			for (size_t j = 0; j < p->u.sa.nprops && !pr; j++)
				if (p->u.sa.props[j].protocol == IKE_PROTO_ESP)
					pr = &p->u.sa.props[j];
			if (pr && pr->spi_size == 4)
				memcpy(spi, pr->spi, 4);
			else
				rc = err_set(e, -EINVAL, "the IKE_AUTH %s has no ESP proposal with a "
					     "4-byte SPI", what);
			if (rc == 0 && resp)
				rc = ikd_suite_from_sa(&p->u.sa, IKE_PROTO_ESP, esp, e);
		}
		ikd_plain_free(&pl);
		if (p)
			return rc;
	}
	if (!saw)
		return err_set(e, -ENOENT, "the capture has no IKE_AUTH %s", what);
	if (de.code)
		return err_set(e, -EBADMSG, "the IKE_AUTH %s does not decrypt (%s)", what, de.msg);
	return err_set(e, -ENOENT, "the IKE_AUTH %s creates no Child SA", what);
}

static int verify_set(struct ikd_ctx *c, const struct ikd_keyset *ks, unsigned *nmatch,
		      unsigned *nbad)
{
	struct ike_sa_keys k = { 0 };
	struct ike_child_keys ck = { 0 };
	struct secret skeyseed = { 0 };
	struct ike_suite esp;
	struct pvpn_err e = { 0 };
	const struct ikd_sa *sa = NULL;
	size_t sa_idx = 0, nsa_init = 0;
	char why[PVPN_ERR_MSG_MAX + 64] = "";
	char hi[17], hr[17];
	struct derived d[] = {
		{ "skeyseed", NULL, "" }, { "sk_d", NULL, "" }, { "sk_ai", NULL, "" },
		{ "sk_ar", NULL, "" }, { "sk_ei", NULL, "" }, { "sk_er", NULL, "" },
		{ "sk_pi", NULL, "" }, { "sk_pr", NULL, "" }, { "esp_enc_i", NULL, "" },
		{ "esp_enc_r", NULL, "" }, { "esp_integ_i", NULL, "" }, { "esp_integ_r", NULL, "" },
		{ "esp_spi_i", NULL, "" }, { "esp_spi_r", NULL, "" },
	};
	/* The Child SA's SPIs are no keys, but pvpnd's key log may name them. */
	uint8_t spi_buf[2][4];
	struct secret spi_i = { spi_buf[0], 4 }, spi_r = { spi_buf[1], 4 };
	const size_t nd = sizeof(d) / sizeof(d[0]);

	/* Which IKE SA of the capture these keys belong to. */
	for (size_t i = 0; i < c->nsas; i++) {
		if (!c->sas[i].have_init_resp)
			continue;
		nsa_init++;
		if (!ks->has_spi || (memcmp(c->sas[i].spi_i, ks->spi_i, 8) == 0 &&
				     memcmp(c->sas[i].spi_r, ks->spi_r, 8) == 0)) {
			if (!sa) {
				sa = &c->sas[i];
				sa_idx = i;
			}
		}
	}
	if (ks->has_spi) {
		hex_encode(hi, sizeof(hi), ks->spi_i, 8);
		hex_encode(hr, sizeof(hr), ks->spi_r, 8);
	} else if (sa) {
		hex_encode(hi, sizeof(hi), sa->spi_i, 8);
		hex_encode(hr, sizeof(hr), sa->spi_r, 8);
	} else {
		strcpy(hi, "?");
		strcpy(hr, "?");
	}
	fprintf(c->out, "# IKE SA %s_%s (key file line %u)\n", hi, hr, ks->line);

	if (!sa) {
		snprintf(why, sizeof(why), "%s", ks->has_spi ?
			 "the capture has no IKE_SA_INIT exchange for these SPIs" :
			 "the capture has no IKE_SA_INIT response");
		goto report;
	}
	if (!ks->has_spi && nsa_init > 1) {
		snprintf(why, sizeof(why), "the key file has no spi_i/spi_r lines but the capture "
			 "holds %zu IKE SAs", nsa_init);
		sa = NULL;
		goto report;
	}
	if (!sa->ni || !sa->nr) {
		snprintf(why, sizeof(why), "the capture lacks the IKE_SA_INIT %s's nonce",
			 sa->ni ? "response" : "request");
		goto report;
	}
	if (!sa->have_suite) {
		snprintf(why, sizeof(why), "the IKE algorithms are unknown: %s", sa->suite_err.msg);
		goto report;
	}
	const struct secret *g_ir = ikd_keyset_get(ks, "dh_shared");
	if (!g_ir) {
		snprintf(why, sizeof(why), "the key file has no dh_shared for this IKE SA");
		goto report;
	}
	if (ike_skeyseed(sa->suite.prf, sa->ni, sa->ni_len, sa->nr, sa->nr_len, g_ir, &skeyseed) < 0) {
		snprintf(why, sizeof(why), "SKEYSEED could not be computed (PRF %u)", sa->suite.prf);
		goto report;
	}
	find(d, nd, "skeyseed")->value = &skeyseed;
	if (ike_sa_keys_derive(&sa->suite, &skeyseed, sa->ni, sa->ni_len, sa->nr, sa->nr_len,
			       sa->spi_i, sa->spi_r, &k) < 0) {
		snprintf(why, sizeof(why), "the SK_* keys could not be derived");
		goto report;
	}
	find(d, nd, "sk_d")->value = &k.sk_d;
	find(d, nd, "sk_ai")->value = &k.sk_ai;
	find(d, nd, "sk_ar")->value = &k.sk_ar;
	find(d, nd, "sk_ei")->value = &k.sk_ei;
	find(d, nd, "sk_er")->value = &k.sk_er;
	find(d, nd, "sk_pi")->value = &k.sk_pi;
	find(d, nd, "sk_pr")->value = &k.sk_pr;

	if (child_sa(c, sa_idx, false, &k, ks, NULL, spi_r.data, &e) == 0)
		find(d, nd, "esp_spi_r")->value = &spi_r;
	else
		set_why(d, nd, "esp_spi_r", e.msg);
	if (child_sa(c, sa_idx, true, &k, ks, &esp, spi_i.data, &e) < 0) {
		snprintf(why, sizeof(why), "%s", e.msg);
		goto report;
	}
	find(d, nd, "esp_spi_i")->value = &spi_i;
	if (ike_child_keys_derive(sa->suite.prf, &k.sk_d, &esp, NULL, sa->ni, sa->ni_len,
				  sa->nr, sa->nr_len, &ck) < 0) {
		snprintf(why, sizeof(why), "the Child SA keys could not be derived");
		goto report;
	}
	find(d, nd, "esp_enc_i")->value = &ck.encr_i;
	find(d, nd, "esp_enc_r")->value = &ck.encr_r;
	find(d, nd, "esp_integ_i")->value = &ck.integ_i;
	find(d, nd, "esp_integ_r")->value = &ck.integ_r;

report:
	if (why[0])
		set_why(d, nd, NULL, why);
	for (size_t i = 0; i < ks->n_keys; i++) {
		const struct ikd_key *fk = &ks->keys[i];
		if (strcmp(fk->name, "dh_shared") == 0) {
			fprintf(c->out, "dh_shared input (%zu bytes)\n", fk->value.len);
			continue;
		}
		struct derived *dv = find(d, nd, fk->name);
		if (!dv) {
			fprintf(c->out, "%s UNVERIFIED: ikedump does not know how to compute a key "
				"of this name\n", fk->name);
			(*nbad)++;
			continue;
		}
		if (!dv->value) {
			fprintf(c->out, "%s UNVERIFIED: %s\n", fk->name, dv->why);
			(*nbad)++;
			continue;
		}
		if (dv->value->len == fk->value.len &&
		    memcmp(dv->value->data, fk->value.data, fk->value.len) == 0) {
			fprintf(c->out, "%s match\n", fk->name);
			(*nmatch)++;
		} else {
			if (dv->value->len == 0)
				fprintf(c->out, "%s MISMATCH (the negotiated algorithms have no such key)\n",
					fk->name);
			else if (dv->value->len != fk->value.len)
				fprintf(c->out, "%s MISMATCH (the file has %zu bytes, the algorithms give "
					"%zu)\n", fk->name, fk->value.len, dv->value->len);
			else
				fprintf(c->out, "%s MISMATCH\n", fk->name);
			(*nbad)++;
		}
	}
	secret_free(&skeyseed);
	ike_sa_keys_free(&k);
	ike_child_keys_free(&ck);
	return 0;
}

int ikd_verify(struct ikd_ctx *c)
{
	unsigned nmatch = 0, nbad = 0;

	for (size_t i = 0; i < c->keys.n_sets; i++)
		verify_set(c, &c->keys.sets[i], &nmatch, &nbad);
	fprintf(c->out, "verify: %u keys match, %u do not\n", nmatch, nbad);
	if (nmatch == 0 && nbad == 0) {
		fprintf(c->err, "pvpn-ikedump: the key file holds no key to verify (only dh_shared?)\n");
		return IKD_EXIT_FAIL;
	}
	return nbad ? IKD_EXIT_FAIL : IKD_EXIT_OK;
}
