#!/bin/bash
# tests/interop/certs/gen.sh — make a small PKI for the auth tests with the
# openssl CLI, at test time, into a folder (nothing private is committed).
#
#   gen.sh DIR ca KEYTYPE [CN]                        DIR/ca.key, DIR/ca.crt
#   gen.sh DIR leaf NAME KEYTYPE CN SAN [START END]  DIR/NAME.key, DIR/NAME.crt signed by DIR/ca
#   gen.sh DIR crl                                   DIR/ca.crl (PEM) of what DIR/ca revoked
#   gen.sh DIR revoke NAME                           revoke DIR/NAME.crt
#
# With GEN_OCSP_URL=http://... in the environment, a leaf gets an
# authorityInfoAccess naming that OCSP responder (the CA signs the answers:
# openssl ocsp -index DIR/index.txt -CA DIR/ca.crt -rsigner DIR/ca.crt
# -rkey DIR/ca.key -port N).
#
# KEYTYPE: rsa2048 rsa3072 p256 p384 p521 ed25519.  SAN: openssl syntax,
# e.g. DNS:server.pvpn.test or email:client@pvpn.test.  START/END:
# YYYYMMDDHHMMSSZ (default: now-1h .. now+30 days).
set -eu
dir=$1 what=$2
shift 2
mkdir -p "$dir"
cd "$dir"

newkey() { # OUT TYPE
	case "$2" in
	rsa2048) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null ;;
	rsa3072) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$1" 2>/dev/null ;;
	p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" ;;
	p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$1" ;;
	p521) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out "$1" ;;
	ed25519) openssl genpkey -algorithm ED25519 -out "$1" ;;
	*) echo "gen.sh: unknown key type $2" >&2; exit 2 ;;
	esac
	chmod 600 "$1"
}

conf() {
	cat >ca.cnf <<-CNF
	[ca]
	default_ca = local
	[local]
	dir = .
	database = index.txt
	new_certs_dir = issued
	serial = serial
	crlnumber = crlnumber
	default_md = $( [ "$(cat ca.type)" = ed25519 ] && echo default || echo sha256 )
	default_days = 30
	default_crl_days = 30
	policy = any
	unique_subject = no
	copy_extensions = none
	[any]
	commonName = supplied
	[leaf]
	basicConstraints = CA:FALSE
	keyUsage = digitalSignature
	subjectAltName = \${ENV::GEN_SAN}
	CNF
}

case "$what" in
ca)
	type=$1 cn=${2:-pvpn interop CA}
	newkey ca.key "$type"
	echo "$type" >ca.type
	openssl req -x509 -new -key ca.key -subj "/CN=$cn" -days 30 \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.crt
	mkdir -p issued
	: >index.txt
	echo 1000 >serial
	echo 1000 >crlnumber
	conf
	;;
leaf)
	name=$1 type=$2 cn=$3 san=$4 start=${5:-} end=${6:-}
	newkey "$name.key" "$type"
	openssl req -new -key "$name.key" -subj "/CN=$cn" -out "$name.csr"
	dates=()
	[ -n "$start" ] && dates+=(-startdate "$start")
	[ -n "$end" ] && dates+=(-enddate "$end")
	ext=(-extensions leaf)
	if [ -n "${GEN_OCSP_URL:-}" ]; then
		cat >"$name.ext" <<-EXT
		[leaf_ocsp]
		basicConstraints = CA:FALSE
		keyUsage = digitalSignature
		subjectAltName = $san
		authorityInfoAccess = OCSP;URI:$GEN_OCSP_URL
		EXT
		ext=(-extfile "$name.ext" -extensions leaf_ocsp)
	fi
	GEN_SAN=$san openssl ca -batch -notext -config ca.cnf "${ext[@]}" -keyfile ca.key \
		-cert ca.crt -in "$name.csr" -out "$name.crt" "${dates[@]}" 2>ca.out ||
		{ cat ca.out >&2; exit 1; }
	;;
revoke)
	GEN_SAN= openssl ca -config ca.cnf -keyfile ca.key -cert ca.crt -revoke "$1.crt" 2>ca.out ||
		{ cat ca.out >&2; exit 1; }
	;;
crl)
	GEN_SAN= openssl ca -config ca.cnf -keyfile ca.key -cert ca.crt -gencrl -out ca.crl 2>ca.out ||
		{ cat ca.out >&2; exit 1; }
	;;
*) echo "gen.sh: unknown command $what" >&2; exit 2 ;;
esac
