# tests/interop/certs/lib-auth.sh — certificate and EAP setups for the
# tests/interop/test_auth_*.sh scripts, on top of tests/interop/lib.sh and
# profiles/pvpn-lib.sh (source those first).  The PKI is made at test time
# by certs/gen.sh into $IX_DIR/pki.
#
#   au_pki CA_TYPE SRV_TYPE [CLI_TYPE]   CA, server (DNS:server.pvpn.test),
#                                        client (email:client@pvpn.test)
#   au_server_start_eap_tls               ix_server_start with strongSwan's eap-identity
#                                        and eap-tls plugins loaded as well
#   au_server MODE [CERT] [CLIENT_ID]     load the strongSwan server: MODE pubkey
#                                        (client cert), eap (EAP-MSCHAPv2), eap-tls
#                                        (server signs, client EAP-TLS) or eap-only
#                                        (EAP-TLS, the server sends no AUTH, RFC 5998); CERT
#                                        is the server cert's name in pki (server);
#                                        CLIENT_ID the id it wants (client@pvpn.test)
#   au_profile OUT MODE [KEY=VAL...]      pvpnd profile: MODE cert, eap or eap-tls; keys:
#                                        ca=FILE remote_id=ID|none password=PW
#                                        revocation=no|yes|strict local_id=none
#                                        (none: pvpnd uses the certificate's DN)
#   au_expect_failure REGEX               pvpnd exits 1 with REGEX in its log,
#                                        nothing installed, the server has no SA
#   au_expect_tunnel                      up, ping, server SA, SIGTERM, clean

AU_GEN=$IX_LIB_DIR/certs/gen.sh
AU_EAP_USER=carol@pvpn.test
AU_EAP_PASSWORD='pvpn interop password 1'

au_pki() {
	local ca=$1 srv=$2 cli=${3:-}
	AU_PKI=$IX_DIR/pki
	"$AU_GEN" "$AU_PKI" ca "$ca" || ix_fail "cannot make the CA"
	"$AU_GEN" "$AU_PKI" leaf server "$srv" server.pvpn.test DNS:server.pvpn.test ||
		ix_fail "cannot make the server certificate"
	if [ -n "$cli" ]; then
		"$AU_GEN" "$AU_PKI" leaf client "$cli" client.pvpn.test email:client@pvpn.test ||
			ix_fail "cannot make the client certificate"
	fi
	ix_log "PKI made: CA $ca, server $srv${cli:+, client $cli}"
}

au_server_start_eap_tls() {
	[ -n "$IX_DIR" ] || ix_fail "call ix_setup first"
	ix_render "$IX_LIB_DIR/strongswan/strongswan.conf.in" "$IX_DIR/srv/strongswan.conf" srv "$@"
	# The shared template's explicit plugin list, plus EAP-TLS (Debian's
	# libcharon-extra-plugins) and EAP-Identity for eap_id = %any.
	sed -i '0,/^\(\tload = .*\)$/s//\1 eap-identity eap-tls/' "$IX_DIR/srv/strongswan.conf"
	grep -q "eap-tls" "$IX_DIR/srv/strongswan.conf" || ix_fail "cannot add eap-tls to strongswan.conf"
	[ -e /usr/lib/ipsec/plugins/libstrongswan-eap-tls.so ] ||
		ix_fail "strongSwan's eap-tls plugin is missing (apt-get install libcharon-extra-plugins)"
	ix_charon_start srv "$IX_SRV"
	ix_server_load "$@"
	ix_log "strongSwan server up with eap-tls in $IX_SRV (pid $IX_SRV_PID, log $IX_DIR/srv/charon.log)"
}

au_server() {
	local mode=$1 cert=${2:-server} client_id=${3:-client@pvpn.test} remote
	local local_auth=pubkey
	case "$mode" in
	eap)
		remote="auth = eap-mschapv2
			id = $AU_EAP_USER" ;;
	eap-tls | eap-only)
		# EAP-Identity first (eap_id %any); the TLS client certificate
		# must then hold that identity and chain to the CA.
		remote="auth = eap-tls
			eap_id = %any"
		# RFC 5998: with an EAP local round, strongSwan 5.9.8 sends no
		# AUTH when the client announced EAP_ONLY_AUTHENTICATION; its
		# EAP-TLS server certificate is found by id.
		[ "$mode" = eap-only ] && local_auth=eap ;;
	*)
		remote="auth = pubkey
			id = \"$client_id\"" ;;
	esac
	# swanctl loads credentials from folders next to the --file it reads.
	local d=$IX_DIR/srv
	mkdir -p "$d/x509" "$d/x509ca" "$d/private"
	rm -f "$d"/x509/* "$d"/x509ca/* "$d"/private/*
	cp "$AU_PKI/$cert.crt" "$d/x509/$cert.crt"
	cp "$AU_PKI/ca.crt" "$d/x509ca/ca.crt"
	cp "$AU_PKI/$cert.key" "$d/private/$cert.key"
	chmod 600 "$d/private/$cert.key"
	cat >"$IX_DIR/srv/auth-swanctl.conf" <<-CONF
	connections {
		pvpn {
			version = 2
			proposals = aes256gcm16-prfsha256-x25519
			pools = pool4
			send_cert = always
			local {
				auth = $local_auth
				certs = $cert.crt
				id = server.pvpn.test
			}
			remote {
				$remote
			}
			children {
				pvpn {
					local_ts = $IX_INNER_NET
					esp_proposals = aes256gcm16
					mode = tunnel
				}
			}
		}
	}
	secrets {
		eap-carol {
			id = $AU_EAP_USER
			secret = "$AU_EAP_PASSWORD"
		}
	}
	pools {
		pool4 {
			addrs = $IX_POOL
			dns = $IX_DNS
		}
	}
	CONF
	ix_swanctl srv --load-all --clear --file "$IX_DIR/srv/auth-swanctl.conf" \
		>"$IX_DIR/srv/load.out" 2>&1 || {
		cat "$IX_DIR/srv/load.out" >&2
		ix_fail "swanctl could not load the certificate connection"
	}
	grep -qiE "loaded certificate" "$IX_DIR/srv/load.out" &&
		grep -qiE "loaded [a-z0-9]+ key" "$IX_DIR/srv/load.out" || {
		cat "$IX_DIR/srv/load.out" >&2
		ix_fail "swanctl loaded no certificate or no key"
	}
	ix_log "server connection ($mode, $cert) loaded"
}

au_profile() {
	local out=$1 mode=$2 kv k v
	shift 2
	local ca=$AU_PKI/ca.crt remote_id=fqdn:server.pvpn.test password=$AU_EAP_PASSWORD
	local revocation=no local_id=email:client@pvpn.test
	for kv in "$@"; do
		k=${kv%%=*}
		v=${kv#*=}
		case "$k" in
		ca | remote_id | password | revocation | local_id) printf -v "$k" '%s' "$v" ;;
		*) ix_fail "au_profile: unknown setting '$k'" ;;
		esac
	done
	{
		echo "[IKEv2]"
		echo "Server = $IX_SERVER_ADDR"
		[ "$remote_id" = none ] || echo "RemoteIdentifier = $remote_id"
		if [ "$mode" = eap ]; then
			echo "LocalIdentifier = email:$AU_EAP_USER"
			echo "AuthenticationMethod = None"
			echo "UseExtendedAuthentication = yes"
			echo "Username = $AU_EAP_USER"
			echo "Password = $password"
		elif [ "$mode" = eap-tls ]; then
			# As Apple's client: certificate + extended authentication
			# = EAP-TLS; EAP-Identity answers the LocalIdentifier.
			[ "$local_id" = none ] || echo "LocalIdentifier = $local_id"
			echo "AuthenticationMethod = Certificate"
			echo "UseExtendedAuthentication = yes"
			echo "CertificateFile = $AU_PKI/client.crt"
			echo "PrivateKeyFile = $AU_PKI/client.key"
		else
			[ "$local_id" = none ] || echo "LocalIdentifier = $local_id"
			echo "AuthenticationMethod = Certificate"
			echo "CertificateFile = $AU_PKI/client.crt"
			echo "PrivateKeyFile = $AU_PKI/client.key"
		fi
		echo "ServerCertificateAuthorityFile = $ca"
		case "$revocation" in
		yes) echo "EnableRevocationCheck = yes" ;;
		strict) echo "EnableRevocationCheck = yes"; echo "StrictRevocationCheck = yes" ;;
		esac
		echo "IKEProposals = aes256gcm16-prfsha256-x25519"
		echo "ChildProposals = aes256gcm16"
		echo
		echo "[Routing]"
		echo "IncludedRoutes = $IX_INNER_NET"
	} >"$out"
	chmod 600 "$out"
}

au_expect_tunnel() {
	pv_start "$IX_DIR/client.conf"
	pv_wait_up 90
	local vip
	vip=$(ix_client_vip)
	[ -n "$vip" ] || ix_fail "the client has no virtual IP from $IX_POOL"
	ix_log "ok: virtual IP $vip"
	ix_check "ping $IX_INNER_ADDR through the tunnel" pv_ping
	ix_check "server lists the SA" ix_server_wait_sa 1 10
	pv_stop
	[ "$PV_RC" = 0 ] || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "pvpnd exit status $PV_RC after SIGTERM (want 0)"; }
	pv_assert_clean
	ix_check "server has no SA after the DELETE" ix_server_wait_sa 0 10
	cat "$IX_DIR/pvpnd.log"
}

au_expect_failure() {
	pv_start "$IX_DIR/client.conf"
	pv_wait_exit 90
	cat "$IX_DIR/pvpnd.log"
	[ "$PV_RC" = 1 ] || ix_fail "pvpnd exit status $PV_RC (want 1)"
	pv_log_has "$1" || ix_fail "no '$1' in pvpnd's log"
	pv_log_has "$AU_EAP_PASSWORD" && ix_fail "the password appears in the log"
	pv_assert_clean
	ix_check "server has no SA" ix_server_wait_sa 0 10
}
