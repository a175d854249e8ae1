/* ikedump.c — pvpn-ikedump's driver: options, reading the capture into a
 * list of messages grouped by IKE SA, the dump and the decryption.
 *
 * The capture is read whole first, so that an IKE SA's nonces and its
 * negotiated proposal (IKE_SA_INIT) are known before its encrypted
 * messages are looked at. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "ike-lite/constants.h"
#include "ike-lite/crypto.h"
#include "ike-lite/message.h"
#include "tools/ikedump/ikedump.h"
#include "tools/ikedump/ikedump_int.h"

#define PCAP_MAX_FILE (256u << 20)

static const char usage_text[] =
	"usage: pvpn-ikedump [-v] [--keys FILE [--verify]] CAPTURE.pcap\n"
	"\n"
	"Show the IKEv2 messages in a pcap capture (UDP 500, and 4500 with the\n"
	"non-ESP marker), one line each.\n"
	"\n"
	"  -k, --keys FILE  decrypt SK payloads with the keys in FILE (name=hex a\n"
	"                   line, as in tests/fixtures/*/keys.txt or pvpnd --keylog)\n"
	"                   and show the payloads inside\n"
	"  -V, --verify     with --keys: recompute SKEYSEED, every SK_* key and the\n"
	"                   first Child SA's keys from dh_shared and the capture;\n"
	"                   print 'NAME match' or 'NAME MISMATCH' for each key\n"
	"  -v, --verbose    also decode the unencrypted payloads\n"
	"  -h, --help       this text\n"
	"\n"
	"Exit status: 0 ok, 1 a key mismatch, a decryption failure or bad input,\n"
	"2 usage.\n";

static void ctx_free(struct ikd_ctx *c)
{
	free(c->scratch);
	free(c->msgs);
	free(c->sas);
	free(c->pcap_buf);
	ikd_keys_free(&c->keys);
}

/* Distinct IKE SAs tracked.  sa_for() looks each message's SA up by a
 * linear search, so a crafted capture with a new SPI in every packet would
 * cost O(n^2); past this many SAs, messages are still shown but not grouped
 * or decrypted.  A real capture of one client holds a handful (one per
 * connection and IKE SA rekey). */
#define IKD_MAX_SAS 1024

/* The SA of header h, created when new.  NULL with *full set when the
 * capture has more than IKD_MAX_SAS of them, NULL alone when out of memory. */
static struct ikd_sa *sa_for(struct ikd_ctx *c, const struct ike_header *h, bool *full)
{
	static const uint8_t zero[8];
	*full = false;
	for (size_t i = 0; i < c->nsas; i++) {
		struct ikd_sa *sa = &c->sas[i];
		if (memcmp(sa->spi_i, h->spi_i, 8) != 0)
			continue;
		/* The IKE_SA_INIT request carries a zero SPIr. */
		if (memcmp(h->spi_r, zero, 8) == 0 ||
		    (sa->have_spi_r && memcmp(sa->spi_r, h->spi_r, 8) == 0))
			return sa;
		/* A capture that starts after IKE_SA_INIT: learn SPIr here. */
		if (!sa->have_spi_r) {
			memcpy(sa->spi_r, h->spi_r, 8);
			sa->have_spi_r = true;
			return sa;
		}
	}
	if (c->nsas >= IKD_MAX_SAS) {
		*full = true;
		return NULL;
	}
	/* Grow by doubling: nsas is a power of two (or 0) when full. */
	if ((c->nsas & (c->nsas - 1)) == 0) {
		size_t ncap = c->nsas ? 2 * c->nsas : 8;
		struct ikd_sa *n = realloc(c->sas, ncap * sizeof(*n));
		if (!n)
			return NULL;
		c->sas = n;
	}
	struct ikd_sa *sa = &c->sas[c->nsas++];
	memset(sa, 0, sizeof(*sa));
	memcpy(sa->spi_i, h->spi_i, 8);
	if (memcmp(h->spi_r, zero, 8) != 0) {
		memcpy(sa->spi_r, h->spi_r, 8);
		sa->have_spi_r = true;
	}
	return sa;
}

/* An SA's pointers into c->sas move when it grows; messages keep indexes. */
static void note_sa_init(struct ikd_ctx *c, struct ikd_msg *msg, const struct ike_message *m,
			 struct ikd_sa *sa)
{
	const struct ike_payload *no = ike_message_find(m, IKE_PT_NONCE, NULL);
	bool resp = m->hdr.flags & IKE_FLAG_R;

	if (!resp) {
		/* A retried request (COOKIE, INVALID_KE_PAYLOAD) replaces Ni. */
		if (no) {
			sa->ni = no->u.nonce.data;
			sa->ni_len = no->u.nonce.len;
		}
		return;
	}
	const struct ike_payload *sap = ike_message_find(m, IKE_PT_SA, NULL);
	if (!no || !sap)
		return;         /* an error notify or a COOKIE request */
	sa->nr = no->u.nonce.data;
	sa->nr_len = no->u.nonce.len;
	memcpy(sa->spi_r, m->hdr.spi_r, 8);
	sa->have_spi_r = true;
	sa->init_resp = (size_t)(msg - c->msgs);
	sa->have_init_resp = true;
	ikd_suite_from_sa(&sap->u.sa, IKE_PROTO_IKE, &sa->suite, &sa->suite_err);
	sa->have_suite = sa->suite_err.code == 0;
}

static int load_capture(struct ikd_ctx *c, const char *path)
{
	struct pvpn_err e = { 0 };
	struct ikd_pcap p;
	struct ikd_packet pkt;
	bool noted_full = false;
	int rc;

	if ((rc = ikd_read_file(path, PCAP_MAX_FILE, &c->pcap_buf, &c->pcap_len, &e)) < 0 ||
	    (rc = ikd_pcap_open(&p, c->pcap_buf, c->pcap_len, &e)) < 0) {
		fprintf(c->err, "pvpn-ikedump: %s%s%s\n", strstr(e.msg, path) ? "" : path,
			strstr(e.msg, path) ? "" : ": ", e.msg);
		return rc;
	}
	c->scratch = calloc(1, sizeof(*c->scratch));
	if (!c->scratch) {
		fprintf(c->err, "pvpn-ikedump: out of memory\n");
		return -ENOMEM;
	}
	while ((rc = ikd_pcap_next(&p, &pkt, &e)) == 1) {
		if (c->nmsgs == c->cap_msgs) {
			size_t ncap = c->cap_msgs ? 2 * c->cap_msgs : 64;
			struct ikd_msg *n = realloc(c->msgs, ncap * sizeof(*n));
			if (!n) {
				fprintf(c->err, "pvpn-ikedump: out of memory\n");
				return -ENOMEM;
			}
			c->msgs = n;
			c->cap_msgs = ncap;
		}
		struct ikd_msg *msg = &c->msgs[c->nmsgs++];
		memset(msg, 0, sizeof(*msg));
		msg->pkt = pkt;
		msg->sa = SIZE_MAX;
		struct ike_message *m = c->scratch;
		msg->parse_rc = ike_message_parse(m, pkt.ike, pkt.ike_len, &msg->parse_err);
		if (msg->parse_rc < 0) {
			c->parse_failures++;
			continue;
		}
		msg->hdr = m->hdr;
		const struct ike_payload *sk = ike_message_find(m, IKE_PT_SK, NULL);
		if (sk) {
			msg->has_sk = true;
			msg->sk_off = sk->offset;
			msg->sk_first = sk->u.sk.first;
		}
		msg->has_skf = ike_message_find(m, IKE_PT_SKF, NULL) != NULL;
		bool full;
		struct ikd_sa *sa = sa_for(c, &m->hdr, &full);
		if (!sa && full) {
			if (!noted_full)
				fprintf(c->err, "pvpn-ikedump: %s: more than %u IKE SAs; messages of "
					"further SAs are shown but not decrypted\n", path, IKD_MAX_SAS);
			noted_full = true;
			continue;
		}
		if (!sa) {
			fprintf(c->err, "pvpn-ikedump: out of memory\n");
			return -ENOMEM;
		}
		msg->sa = (size_t)(sa - c->sas);
		if (m->hdr.exchange == IKE_SA_INIT)
			note_sa_init(c, msg, m, sa);
	}
	if (rc < 0) {
		fprintf(c->err, "pvpn-ikedump: %s: %s\n", path, e.msg);
		return rc;
	}
	c->pcap = p;
	if (c->nmsgs == 0)
		fprintf(c->err, "pvpn-ikedump: %s: no IKE messages in %llu packets\n", path,
			(unsigned long long)p.records);
	return 0;
}

int ikd_decrypt(const struct ikd_ctx *c, const struct ikd_msg *msg, const struct ike_suite *suite,
		const struct secret *ek, const struct secret *ak, struct ikd_plain *out,
		struct pvpn_err *e)
{
	const uint8_t *plain;
	size_t plain_len;
	int rc;

	memset(out, 0, sizeof(*out));
	if (msg->parse_rc < 0 || !msg->has_sk)
		return err_set(e, -ENOENT, "no SK payload");
	out->buf = malloc(msg->pkt.ike_len);
	out->m = calloc(1, sizeof(*out->m));
	if (!out->buf || !out->m) {
		rc = err_set(e, -ENOMEM, "out of memory");
		goto fail;
	}
	out->len = msg->pkt.ike_len;
	memcpy(out->buf, msg->pkt.ike, out->len);
	rc = ike_sk_open(suite, ek, ak, out->buf, out->len, msg->sk_off, &plain, &plain_len, e);
	if (rc < 0)
		goto fail;
	rc = ike_payloads_parse(out->m, msg->sk_first, plain, plain_len, e);
	if (rc < 0) {
		err_prefix(e, "decrypted, but the inner payloads do not parse: ");
		goto fail;
	}
	return 0;
fail:
	ikd_plain_free(out);
	return rc;
}

void ikd_plain_free(struct ikd_plain *p)
{
	if (p->buf)
		secret_wipe(p->buf, p->len);
	free(p->buf);
	free(p->m);
	memset(p, 0, sizeof(*p));
}

/* The file's keys for the direction this message was sent in. */
static int file_keys(const struct ikd_ctx *c, const struct ikd_sa *sa, const struct ikd_msg *msg,
		     const struct secret **ek, const struct secret **ak, struct pvpn_err *e)
{
	const struct ikd_keyset *ks = ikd_keys_find(&c->keys, sa->spi_i, sa->spi_r);
	bool from_i = msg->hdr.flags & IKE_FLAG_I;

	if (!ks)
		return err_set(e, -ENOKEY, "no keys for this IKE SA in the key file");
	if (!sa->have_suite)
		return err_set(e, -ENOKEY, "the capture has no usable IKE_SA_INIT response for this "
			       "IKE SA, so its algorithms are unknown%s%s",
			       sa->suite_err.code ? ": " : "", sa->suite_err.msg);
	*ek = ikd_keyset_get(ks, from_i ? "sk_ei" : "sk_er");
	*ak = ikd_keyset_get(ks, from_i ? "sk_ai" : "sk_ar");
	if (!*ek)
		return err_set(e, -ENOKEY, "the key file has no %s", from_i ? "sk_ei" : "sk_er");
	if (!sa->suite.aead && !*ak)
		return err_set(e, -ENOKEY, "the key file has no %s", from_i ? "sk_ai" : "sk_ar");
	return 0;
}

static void fmt_time(char *out, size_t cap, uint64_t t0, uint64_t t)
{
	uint64_t d = t >= t0 ? t - t0 : 0;
	snprintf(out, cap, "%6llu.%06llu", (unsigned long long)(d / 1000000000u),
		 (unsigned long long)(d % 1000000000u / 1000u));
}

static int dump(struct ikd_ctx *c, bool decrypt)
{
	int status = 0;
	uint64_t t0 = c->nmsgs ? c->msgs[0].pkt.ts_ns : 0;

	for (size_t i = 0; i < c->nmsgs; i++) {
		struct ikd_msg *msg = &c->msgs[i];
		char ts[32], src[64], dst[64], b[32];

		fmt_time(ts, sizeof(ts), t0, msg->pkt.ts_ns);
		ikd_format_endpoint(src, sizeof(src), msg->pkt.family, msg->pkt.src, msg->pkt.sport);
		ikd_format_endpoint(dst, sizeof(dst), msg->pkt.family, msg->pkt.dst, msg->pkt.dport);
		fprintf(c->out, "%s %s -> %s ", ts, src, dst);
		if (msg->parse_rc < 0) {
			fprintf(c->out, "malformed IKE message (%zu bytes): %s\n", msg->pkt.ike_len,
				msg->parse_err.msg);
			status = IKD_EXIT_FAIL;
			continue;
		}
		struct ike_message *m = c->scratch;
		struct pvpn_err pe = { 0 };
		/* Parsed before; the same bytes parse the same way again. */
		if (ike_message_parse(m, msg->pkt.ike, msg->pkt.ike_len, &pe) < 0) {
			fprintf(c->out, "malformed IKE message: %s\n", pe.msg);
			status = IKD_EXIT_FAIL;
			continue;
		}
		const struct ike_header *h = &m->hdr;
		const char *xn = ike_exchange_name(h->exchange);
		if (!xn) {
			snprintf(b, sizeof(b), "EXCHANGE_%u", h->exchange);
			xn = b;
		}
		fprintf(c->out, "%s #%u %s %s ", xn, h->message_id, (h->flags & IKE_FLAG_I) ? "I" : "R",
			(h->flags & IKE_FLAG_R) ? "resp" : "req");
		ikd_print_payload_list(c->out, m);
		fputc('\n', c->out);

		if (c->verbose)
			for (size_t j = 0; j < m->npayloads; j++)
				if (m->payloads[j].type != IKE_PT_SK)
					ikd_print_payload(c->out, &m->payloads[j], "    ");
		if (!decrypt)
			continue;
		if (msg->has_skf) {
			fprintf(c->out, "    (SKF fragment: reassembly is not supported, not decrypted)\n");
			continue;
		}
		if (!msg->has_sk)
			continue;

		struct pvpn_err e = { 0 };
		const struct secret *ek = NULL, *ak = NULL;
		struct ikd_plain pl;
		if (msg->sa == SIZE_MAX) {
			fprintf(c->out, "    ! not decrypted: beyond the %u IKE SAs tracked\n",
				IKD_MAX_SAS);
			status = IKD_EXIT_FAIL;
			continue;
		}
		struct ikd_sa *sa = &c->sas[msg->sa];
		int rc = file_keys(c, sa, msg, &ek, &ak, &e);
		if (rc == 0)
			rc = ikd_decrypt(c, msg, &sa->suite, ek, ak, &pl, &e);
		if (rc < 0) {
			fprintf(c->out, "    ! not decrypted: %s\n", e.msg);
			status = IKD_EXIT_FAIL;
			continue;
		}
		/* An empty INFORMATIONAL is a liveness check or an answer (RFC 7296 §1.4, §2.4). */
		if (pl.m->npayloads == 0)
			fprintf(c->out, "    (no payloads)\n");
		for (size_t j = 0; j < pl.m->npayloads; j++)
			ikd_print_payload(c->out, &pl.m->payloads[j], "    ");
		ikd_plain_free(&pl);
	}
	if (c->parse_failures)
		status = IKD_EXIT_FAIL;
	return status;
}

int ikedump_run(int argc, char **argv, FILE *out, FILE *errout)
{
	static const struct option longopts[] = {
		{ "keys", required_argument, NULL, 'k' },
		{ "verify", no_argument, NULL, 'V' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ikd_ctx c;
	const char *keys = NULL;
	bool verify = false;
	int opt, status;

	memset(&c, 0, sizeof(c));
	c.out = out;
	c.err = errout;
	/* Callable more than once in one process (tests): reset getopt. */
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":k:Vvh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'k': keys = optarg; break;
		case 'V': verify = true; break;
		case 'v': c.verbose = true; break;
		case 'h':
			fputs(usage_text, out);
			return IKD_EXIT_OK;
		case ':':
			fprintf(errout, "pvpn-ikedump: %s needs an argument\n%s", argv[optind - 1], usage_text);
			return IKD_EXIT_USAGE;
		default:
			fprintf(errout, "pvpn-ikedump: unknown option %s\n%s",
				optind > 0 && optind <= argc ? argv[optind - 1] : "?", usage_text);
			return IKD_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(errout, "pvpn-ikedump: %s\n%s",
			optind >= argc ? "no capture file given" : "more than one capture file given",
			usage_text);
		return IKD_EXIT_USAGE;
	}
	if (verify && !keys) {
		fprintf(errout, "pvpn-ikedump: --verify needs --keys FILE\n%s", usage_text);
		return IKD_EXIT_USAGE;
	}
	if (keys) {
		struct pvpn_err e = { 0 };
		if (ikd_keys_load(&c.keys, keys, &e) < 0) {
			fprintf(errout, "pvpn-ikedump: %s\n", e.msg);
			status = IKD_EXIT_FAIL;
			goto out;
		}
	}
	if (load_capture(&c, argv[optind]) < 0) {
		status = IKD_EXIT_FAIL;
		goto out;
	}
	if (verify)
		status = ikd_verify(&c);
	else
		status = dump(&c, keys != NULL);
	if (!verify && c.pcap.skipped_fragment)
		fprintf(errout, "pvpn-ikedump: %llu IP fragments skipped (no reassembly; "
			"IKE fragmentation, RFC 7383, avoids them)\n",
			(unsigned long long)c.pcap.skipped_fragment);
	if (!verify && c.pcap.skipped_truncated)
		fprintf(errout, "pvpn-ikedump: %llu packets skipped because the capture cut them "
			"short (capture with -s 0)\n", (unsigned long long)c.pcap.skipped_truncated);
out:
	ctx_free(&c);
	return status;
}
