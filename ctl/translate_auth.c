/* translate_auth.c — the profile's certificate and EAP credentials become
 * the engine's (ike-lite reads no files, so the daemon reads them here). */
#include "ctl/ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define AUTH_FILE_MAX (1024 * 1024)

int ctl_translate_auth(const struct prof_profile *p, struct ike_config *cfg, struct pvpn_err *e);

/* Read a whole (small) file named in the profile, relative to its folder. */
static int read_file(const struct prof_profile *p, const char *key, const char *path,
		     struct secret *out, struct pvpn_err *e)
{
	char full[PATH_MAX];
	struct stat st;
	uint8_t *buf = NULL;
	size_t n = 0;
	int fd, rc = 0;

	if (path[0] == '/' || !p->base_dir[0])
		snprintf(full, sizeof(full), "%s", path);
	else if (snprintf(full, sizeof(full), "%s/%s", p->base_dir, path) >= (int)sizeof(full))
		return err_set(e, -ENAMETOOLONG, "%s: path too long", key);
	if ((fd = open(full, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return err_set(e, -errno, "%s: cannot open '%.100s': %s", key, full, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    st.st_size > AUTH_FILE_MAX) {
		rc = err_set(e, -EINVAL, "%s: '%.100s' is not a regular file of 1 byte to 1 MiB",
			     key, full);
		goto out;
	}
	if (!(buf = malloc((size_t)st.st_size))) {
		rc = err_set(e, -ENOMEM, "out of memory");
		goto out;
	}
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = err_set(e, -EIO, "%s: reading '%.100s' failed", key, full);
			goto out;
		}
		n += (size_t)r;
	}
	if (secret_set(out, buf, n) < 0)
		rc = err_set(e, -ENOMEM, "out of memory");
out:
	if (buf) {
		secret_wipe(buf, (size_t)st.st_size);
		free(buf);
	}
	close(fd);
	return rc;
}

/* Without a LocalIdentifier, a certificate user is identified by the
 * certificate's subject (RFC 7296 §3.5 ID_DER_ASN1_DN), which the server
 * can always match against the certificate (RFC 4945 §3.1.5). */
static void id_from_cert(const struct secret *pem, struct ike_id *out)
{
	BIO *b = BIO_new_mem_buf(pem->data, (int)pem->len);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	uint8_t *der = NULL;
	int n = x ? i2d_X509_NAME(X509_get_subject_name(x), &der) : -1;

	if (n > 0 && n <= IKE_CFG_MAX_ID_LEN) {
		memset(out, 0, sizeof(*out));
		out->type = 9;   /* ID_DER_ASN1_DN */
		out->len = (uint16_t)n;
		memcpy(out->data, der, (size_t)n);
	}
	OPENSSL_free(der);
	X509_free(x);
	BIO_free(b);
	ERR_clear_error();
}

int ctl_translate_auth(const struct prof_profile *p, struct ike_config *cfg, struct pvpn_err *e)
{
	int rc;

	if (p->auth_method == PROF_AUTH_METHOD_CERTIFICATE) {
		cfg->auth = IKE_CRED_CERT;
		if ((rc = read_file(p, "CertificateFile", p->certificate_file, &cfg->cert, e)) < 0)
			return rc;
		if (p->private_key.len)
			rc = secret_dup(&cfg->key, &p->private_key);
		else
			rc = read_file(p, "PrivateKeyFile", p->private_key_file, &cfg->key, e);
		if (rc < 0)
			return rc;
		if (p->local_id.type == PROF_ID_NONE)
			id_from_cert(&cfg->cert, &cfg->local_id);
	}
	if (p->use_eap && p->auth_method == PROF_AUTH_METHOD_CERTIFICATE) {
		/* As Apple's client: the certificate goes into EAP-TLS (RFC
		 * 5216), EAP-only when the server agrees (RFC 5998). */
		cfg->auth = IKE_CRED_EAP_TLS;
		snprintf(cfg->eap_user, sizeof(cfg->eap_user), "%s", p->username);
	} else if (p->use_eap) {
		cfg->auth = IKE_CRED_EAP;
		snprintf(cfg->eap_user, sizeof(cfg->eap_user), "%s", p->username);
		if (!p->password.len)
			return err_set(e, -EINVAL, "UseExtendedAuthentication needs a password");
		if ((rc = secret_dup(&cfg->eap_password, &p->password)) < 0)
			return err_set(e, rc, "out of memory");
	}
	if (p->server_ca_file[0]) {
		if ((rc = read_file(p, "ServerCertificateAuthorityFile", p->server_ca_file, &cfg->ca, e)) < 0)
			return rc;
		/* CRLs (PEM) may sit in the same file as the anchors. */
		if (p->enable_revocation_check && (rc = secret_dup(&cfg->crl, &cfg->ca)) < 0)
			return err_set(e, rc, "out of memory");
	} else if (cfg->auth != IKE_CRED_PSK) {
		return err_set(e, -EINVAL, "ServerCertificateAuthorityFile is needed: the server "
			       "must prove itself with a certificate before our credentials are used");
	}
	snprintf(cfg->server_cert_cn, sizeof(cfg->server_cert_cn), "%s", p->server_cert_cn);
	snprintf(cfg->server_cert_issuer_cn, sizeof(cfg->server_cert_issuer_cn), "%s",
		 p->server_cert_issuer_cn);
	cfg->revocation_check = p->enable_revocation_check;
	cfg->revocation_strict = p->strict_revocation_check;
	/* Certificates without a CRL in the CA file are asked about over
	 * OCSP, at the responder their (verified) AIA names; the engine asks
	 * only after the chain verified. */
	if (p->enable_revocation_check) {
		cfg->ocsp_fetch = ctl_ocsp_fetch;
		cfg->ocsp_ctx = NULL;   /* the defaults: 3 s, 64 KiB per responder */
	}
	/* The certificate must name the server we asked for: RemoteIdentifier,
	 * or else the Server host (as Apple's remoteIdentifier defaults). */
	if (p->remote_id.type != PROF_ID_NONE && !p->remote_id.data_is_text &&
	    p->remote_id.data_len && p->remote_id.data_len <= IKE_CFG_MAX_ID_LEN) {
		cfg->server_cert_id.type = (uint8_t)p->remote_id.type;
		cfg->server_cert_id.len = (uint16_t)p->remote_id.data_len;
		memcpy(cfg->server_cert_id.data, p->remote_id.data, p->remote_id.data_len);
	}
	/* Certificates make IKE_AUTH big and servers then fragment (RFC 7383),
	 * which the engine cannot reassemble yet: do not announce it. */
	if (cfg->auth != IKE_CRED_PSK || cfg->ca.len)
		cfg->disable_fragmentation = true;
	return 0;
}
