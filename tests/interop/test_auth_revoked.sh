#!/bin/bash
# Revocation: the CA has revoked the server's certificate and the CRL sits
# in ServerCertificateAuthorityFile next to the CA.  With
# EnableRevocationCheck pvpnd exits 1 with "server certificate invalid"
# (revoked); nothing installed.  (OCSP has its own test, test_auth_ocsp.sh.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
. "$(dirname "$0")/certs/lib-auth.sh"
ix_setup
ix_server_start
au_pki p256 p256 p256
"$AU_GEN" "$AU_PKI" revoke server || ix_fail "cannot revoke"
"$AU_GEN" "$AU_PKI" crl || ix_fail "cannot make the CRL"
cat "$AU_PKI/ca.crt" "$AU_PKI/ca.crl" >"$IX_DIR/ca-and-crl.pem"
au_server pubkey
au_profile "$IX_DIR/client.conf" cert "ca=$IX_DIR/ca-and-crl.pem" revocation=strict
au_expect_failure "server certificate invalid"
pv_log_has "revoked" || ix_fail "pvpnd does not say the certificate is revoked"
pv_keep_logs
ix_log PASS
