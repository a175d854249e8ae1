/* lifecycle.c — see lifecycle.h. */
#include "ctl/lifecycle.h"

#include <errno.h>
#include <string.h>

#include "lib/log.h"

static void record(struct ctl_installed *in, uint32_t spi, const struct sockaddr_storage *dst)
{
	if (in->n_sas >= sizeof(in->sas) / sizeof(in->sas[0]))
		return;
	in->sas[in->n_sas] = (struct xfrm_sa_id){ .spi = spi, .proto = IPPROTO_ESP };
	ctl_sockaddr_to_xfrm(dst, &in->sas[in->n_sas].dst);
	in->n_sas++;
}

static void forget(struct ctl_installed *in, uint32_t spi)
{
	for (size_t i = 0; i < in->n_sas; i++)
		if (in->sas[i].spi == spi) {
			memmove(&in->sas[i], &in->sas[i + 1], (in->n_sas - i - 1) * sizeof(in->sas[0]));
			in->n_sas--;
			return;
		}
}

int ctl_life_install_rekeyed(struct ctl_daemon *d, struct ctl_conn *c,
			     const struct ike_act_child *ch)
{
	struct pvpn_err e = { 0 };
	struct xfrm_sa sa;
	int rc;

	/* Inbound first (it fills the larval SA of the SPI allocation), so
	 * the server's first packets on the new pair are accepted; then the
	 * outbound one, which the policy's template picks from now on (the
	 * kernel prefers the newest SA of a reqid).  RFC 7296 §2.8. */
	rc = ctl_translate_sa(ch, true, &sa, &e);
	if (rc < 0)
		goto fail;
	rc = xfrm_sa_update(d->xh, &sa, &e);
	if (rc == -ENOENT)
		rc = xfrm_sa_add(d->xh, &sa, &e);
	secret_wipe(&sa, sizeof(sa));
	if (rc < 0)
		goto fail;
	record(&c->inst, ch->spi_in, &ch->local);
	rc = ctl_translate_sa(ch, false, &sa, &e);
	if (rc < 0)
		goto fail;
	rc = xfrm_sa_add(d->xh, &sa, &e);
	secret_wipe(&sa, sizeof(sa));
	if (rc < 0)
		goto fail;
	record(&c->inst, ch->spi_out, &ch->remote);
	log_msg(LOG_NOTICE, c->name, "CHILD SA rekeyed: SPIs in %08x out %08x", ch->spi_in,
		ch->spi_out);
	if ((rc = ctl_state_save(c->name, &c->inst)) < 0)
		log_msg(LOG_WARNING, c->name, "cannot record the new SAs for crash recovery: %s",
			strerror(-rc));
	return 0;
fail:
	return err_set(&c->last_error, rc, "installing the rekeyed Child SA: %s", e.msg);
}

void ctl_life_remove_old(struct ctl_daemon *d, struct ctl_conn *c,
			 const struct ike_act_remove_child *r)
{
	struct pvpn_err e = { 0 };
	struct xfrm_sa_id id;
	const struct {
		uint32_t spi;
		const struct sockaddr_storage *dst;
	} two[2] = { { r->spi_out, &r->remote }, { r->spi_in, &r->local } };

	for (size_t i = 0; i < 2; i++) {
		memset(&id, 0, sizeof(id));
		id.spi = two[i].spi;
		id.proto = IPPROTO_ESP;
		ctl_sockaddr_to_xfrm(two[i].dst, &id.dst);
		if (xfrm_sa_delete(d->xh, &id, &e) < 0 && e.code != -ESRCH && e.code != -ENOENT)
			log_msg(LOG_WARNING, c->name, "removing the replaced SA %08x: %s", id.spi,
				e.msg);
		forget(&c->inst, id.spi);
	}
	log_msg(LOG_INFO, c->name, "removed the replaced CHILD SA (SPIs in %08x out %08x)",
		r->spi_in, r->spi_out);
	ctl_state_save(c->name, &c->inst);
}
