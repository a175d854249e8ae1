/* status.c — one connection's state as the control protocol reports it:
 * NEVPNStatus, NEVPNConnectionError with the underlying detail, the server,
 * virtual IPs and DNS, and per Child SA the SPIs, algorithms, traffic
 * selectors, the kernel's byte and packet counters (the numbers
 * `ip -s xfrm state` shows) and the time to the next rekey. */
#include "ctl/proto.h"
#include "ctl/ctl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"

static void ss_addr(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	buf[0] = '\0';
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, buf, (socklen_t)len);
	else if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, buf,
			  (socklen_t)len);
}

static enum ctl_vpn_status map_status(const struct ctl_conn *c)
{
	/* Reconnecting after an unplanned loss (ctl/lifecycle.c). */
	if (c->reasserting && (!c->sa || c->status != IKE_STATUS_CONNECTED))
		return CTL_ST_REASSERTING;
	if (!c->sa)
		return CTL_ST_DISCONNECTED;
	switch (c->status) {
	case IKE_STATUS_CONNECTING: return CTL_ST_CONNECTING;
	case IKE_STATUS_CONNECTED: return CTL_ST_CONNECTED;
	case IKE_STATUS_DISCONNECTING: return CTL_ST_DISCONNECTING;
	case IKE_STATUS_DISCONNECTED: return CTL_ST_DISCONNECTED;
	}
	return CTL_ST_INVALID;
}

static void prefix_str(const struct xfrm_addr *a, uint8_t len, char *buf, size_t n)
{
	char b[64];
	snprintf(buf, n, "%s/%u", xfrm_addr_str(a, b, sizeof(b)), len);
}

/* The policies are the TS pairs' cross product: list each side once. */
static void add_unique(char list[][CTL_ADDR_STR], uint8_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(list[i], s))
			return;
	if (*n < CTL_MAX_TS_STR)
		snprintf(list[(*n)++], CTL_ADDR_STR, "%s", s);
}

/* The Child SA's negotiated algorithms as the kernel names them (what
 * `ip xfrm state` prints); the profile's only proposal before the first
 * install was recorded. */
static void child_algs(const struct ctl_conn *c, struct ctl_child_info *ch)
{
	uint16_t encr = c->child.encr_id, bits = c->child.encr_key_bits, integ = c->child.integ_id;
	if (!encr && c->prof.n_child_proposals == 1) {
		encr = c->prof.child_proposals[0].encr;
		bits = c->prof.child_proposals[0].encr_keybits;
		integ = c->prof.child_proposals[0].integ;
	}
	const struct ctl_esp_encr *en = ctl_esp_encr_lookup(encr);
	if (en)
		snprintf(ch->encr, sizeof(ch->encr), "%s", en->kernel);
	ch->keybits = bits;
	ch->encap = c->child.encap;
	if (en && !en->aead) {
		const struct ctl_esp_integ *ig = ctl_esp_integ_lookup(integ);
		if (ig)
			snprintf(ch->integ, sizeof(ch->integ), "%s", ig->kernel);
	}
}

void ctl_status_collect(struct ctl_daemon *d, const struct ctl_conn *c, uint64_t error_time,
			struct ctl_conn_info *ci)
{
	memset(ci, 0, sizeof(*ci));
	uint64_t now_mono = clock_mono_ms(), now_wall = clock_wall_s();
	snprintf(ci->name, sizeof(ci->name), "%s", c->name);
	ci->status = map_status(c);
	ci->error = ctl_vpn_error_from((int)c->error, c->last_error.code, c->last_error.msg);
	if (ci->error != CTL_VE_NONE) {
		snprintf(ci->detail, sizeof(ci->detail), "%s", c->last_error.msg);
		ci->error_time = error_time;
	}
	snprintf(ci->server, sizeof(ci->server), "%s", c->prof.server_host);
	if (c->sa || c->ever_connected) {
		ss_addr(&c->remote, ci->server_addr, sizeof(ci->server_addr));
		ss_addr(&c->local, ci->local_addr, sizeof(ci->local_addr));
	}
	if (ci->status == CTL_ST_CONNECTED && c->connected_ms && c->connected_ms <= now_mono) {
		/* Monotonic age, wall-clock anchor, rounded to the nearest second. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t wall_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
		uint64_t ago = now_mono - c->connected_ms;
		ci->since = wall_ms > ago ? (wall_ms - ago + 500) / 1000 : now_wall;
	}
	if (!c->sa)
		return;
	if (c->have_assigned) {
		const struct ike_act_config *as = &c->assigned;
		if (as->has_vip4 && ci->n_vip < CTL_MAX_VIP)
			inet_ntop(AF_INET, &as->vip4, ci->vip[ci->n_vip++], CTL_ADDR_STR);
		if (as->has_vip6 && ci->n_vip < CTL_MAX_VIP)
			inet_ntop(AF_INET6, &as->vip6, ci->vip[ci->n_vip++], CTL_ADDR_STR);
		for (size_t i = 0; i < as->n_dns4 && i < IKE_MAX_CP_ADDRS && ci->n_dns < CTL_MAX_DNS_STR; i++)
			inet_ntop(AF_INET, &as->dns4[i], ci->dns[ci->n_dns++], CTL_ADDR_STR);
		for (size_t i = 0; i < as->n_dns6 && i < IKE_MAX_CP_ADDRS && ci->n_dns < CTL_MAX_DNS_STR; i++)
			inet_ntop(AF_INET6, &as->dns6[i], ci->dns[ci->n_dns++], CTL_ADDR_STR);
	}
	/* install_child records the inbound SA first, then the outbound. */
	const struct ctl_installed *in = &c->inst;
	for (size_t k = 0; k + 1 < in->n_sas && ci->n_child < CTL_MAX_CHILD; k += 2) {
		struct ctl_child_info *ch = &ci->child[ci->n_child++];
		ch->spi_in = in->sas[k].spi;
		ch->spi_out = in->sas[k + 1].spi;
		child_algs(c, ch);
		struct xfrm_sa_counters cin = { 0 }, cout = { 0 };
		struct pvpn_err e = { 0 };
		if (d && d->xh) {
			xfrm_sa_counters(d->xh, &in->sas[k], &cin, &e);
			xfrm_sa_counters(d->xh, &in->sas[k + 1], &cout, &e);
		}
		ch->bytes_in = cin.bytes;
		ch->packets_in = cin.packets;
		ch->bytes_out = cout.bytes;
		ch->packets_out = cout.packets;
		ch->added = cin.add_time ? cin.add_time : cout.add_time;
		/* The SA's soft lifetime is when the rekey starts. */
		uint32_t soft = c->child.soft_lifetime_s;
		if (ch->added && soft) {
			uint64_t at = ch->added + soft;
			ch->has_rekey = true;
			ch->rekey_s = at > now_wall ? at - now_wall : 0;
		}
		for (size_t i = 0; i < in->n_policies; i++) {
			const struct xfrm_policy *p = &in->policies[i];
			if (p->dir != XFRM_DIR_OUT)
				continue;
			char b[CTL_ADDR_STR];
			prefix_str(&p->sel.src, p->sel.src_len, b, sizeof(b));
			add_unique(ch->ts_local, &ch->n_ts_local, b);
			prefix_str(&p->sel.dst, p->sel.dst_len, b, sizeof(b));
			add_unique(ch->ts_remote, &ch->n_ts_remote, b);
		}
	}
}
