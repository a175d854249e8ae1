/* names.c — IANA numbers to names, for printing (ikedump, logs).
 * Each returns a static string, or NULL when the number is unknown so the
 * caller can print the number instead.  Generated from constants.h's enums
 * and kept by hand since. */
#include "ike-lite/message.h"

#include <stddef.h>

const char *ike_exchange_name(uint8_t v)
{
	switch (v) {
	case IKE_SA_INIT: return "IKE_SA_INIT";
	case IKE_AUTH: return "IKE_AUTH";
	case IKE_CREATE_CHILD_SA: return "CREATE_CHILD_SA";
	case IKE_INFORMATIONAL: return "INFORMATIONAL";
	case IKE_SESSION_RESUME: return "IKE_SESSION_RESUME";
	case IKE_GSA_AUTH: return "GSA_AUTH";
	case IKE_GSA_REGISTRATION: return "GSA_REGISTRATION";
	case IKE_GSA_REKEY: return "GSA_REKEY";
	case IKE_INTERMEDIATE: return "IKE_INTERMEDIATE";
	case IKE_FOLLOWUP_KE: return "IKE_FOLLOWUP_KE";
	default: return NULL;
	}
}

const char *ike_payload_name(uint8_t v)
{
	switch (v) {
	case IKE_PT_SA: return "SA";
	case IKE_PT_KE: return "KE";
	case IKE_PT_IDI: return "IDi";
	case IKE_PT_IDR: return "IDr";
	case IKE_PT_CERT: return "CERT";
	case IKE_PT_CERTREQ: return "CERTREQ";
	case IKE_PT_AUTH: return "AUTH";
	case IKE_PT_NONCE: return "No";
	case IKE_PT_NOTIFY: return "N";
	case IKE_PT_DELETE: return "D";
	case IKE_PT_VENDOR: return "V";
	case IKE_PT_TSI: return "TSi";
	case IKE_PT_TSR: return "TSr";
	case IKE_PT_SK: return "SK";
	case IKE_PT_CP: return "CP";
	case IKE_PT_EAP: return "EAP";
	case IKE_PT_GSPM: return "GSPM";
	case IKE_PT_IDG: return "IDg";
	case IKE_PT_GSA: return "GSA";
	case IKE_PT_KD: return "KD";
	case IKE_PT_SKF: return "SKF";
	case IKE_PT_PS: return "PS";
	default: return NULL;
	}
}

const char *ike_payload_long_name(uint8_t v)
{
	switch (v) {
	case IKE_PT_SA: return "Security Association";
	case IKE_PT_KE: return "Key Exchange";
	case IKE_PT_IDI: return "Identification - Initiator";
	case IKE_PT_IDR: return "Identification - Responder";
	case IKE_PT_CERT: return "Certificate";
	case IKE_PT_CERTREQ: return "Certificate Request";
	case IKE_PT_AUTH: return "Authentication";
	case IKE_PT_NONCE: return "Nonce";
	case IKE_PT_NOTIFY: return "Notify";
	case IKE_PT_DELETE: return "Delete";
	case IKE_PT_VENDOR: return "Vendor ID";
	case IKE_PT_TSI: return "Traffic Selector - Initiator";
	case IKE_PT_TSR: return "Traffic Selector - Responder";
	case IKE_PT_SK: return "Encrypted and Authenticated";
	case IKE_PT_CP: return "Configuration";
	case IKE_PT_EAP: return "Extensible Authentication";
	case IKE_PT_GSPM: return "Generic Secure Password Methods";
	case IKE_PT_IDG: return "Group Identification";
	case IKE_PT_GSA: return "Group Security Association";
	case IKE_PT_KD: return "Key Download";
	case IKE_PT_SKF: return "Encrypted and Authenticated Fragment";
	case IKE_PT_PS: return "Puzzle Solution";
	default: return NULL;
	}
}

const char *ike_protocol_name(uint8_t v)
{
	switch (v) {
	case IKE_PROTO_IKE: return "IKE";
	case IKE_PROTO_AH: return "AH";
	case IKE_PROTO_ESP: return "ESP";
	default: return NULL;
	}
}

const char *ike_transform_type_name(uint8_t v)
{
	switch (v) {
	case IKE_TRANS_ENCR: return "ENCR";
	case IKE_TRANS_PRF: return "PRF";
	case IKE_TRANS_INTEG: return "INTEG";
	case IKE_TRANS_DH: return "DH";
	case IKE_TRANS_ESN: return "ESN";
	case IKE_TRANS_ADDKE1: return "ADDKE1";
	case IKE_TRANS_ADDKE7: return "ADDKE7";
	default: return NULL;
	}
}

const char *ike_transform_name(uint8_t type, uint16_t id)
{
	switch (type) {
	case IKE_TRANS_ENCR:
		switch (id) {
		case IKE_ENCR_DES_IV64: return "ENCR_DES_IV64";
		case IKE_ENCR_DES: return "ENCR_DES";
		case IKE_ENCR_3DES: return "ENCR_3DES";
		case IKE_ENCR_RC5: return "ENCR_RC5";
		case IKE_ENCR_IDEA: return "ENCR_IDEA";
		case IKE_ENCR_CAST: return "ENCR_CAST";
		case IKE_ENCR_BLOWFISH: return "ENCR_BLOWFISH";
		case IKE_ENCR_3IDEA: return "ENCR_3IDEA";
		case IKE_ENCR_DES_IV32: return "ENCR_DES_IV32";
		case IKE_ENCR_NULL: return "ENCR_NULL";
		case IKE_ENCR_AES_CBC: return "ENCR_AES_CBC";
		case IKE_ENCR_AES_CTR: return "ENCR_AES_CTR";
		case IKE_ENCR_AES_CCM_8: return "ENCR_AES_CCM_8";
		case IKE_ENCR_AES_CCM_12: return "ENCR_AES_CCM_12";
		case IKE_ENCR_AES_CCM_16: return "ENCR_AES_CCM_16";
		case IKE_ENCR_AES_GCM_8: return "ENCR_AES_GCM_8";
		case IKE_ENCR_AES_GCM_12: return "ENCR_AES_GCM_12";
		case IKE_ENCR_AES_GCM_16: return "ENCR_AES_GCM_16";
		case IKE_ENCR_NULL_AUTH_AES_GMAC: return "ENCR_NULL_AUTH_AES_GMAC";
		case IKE_ENCR_CAMELLIA_CBC: return "ENCR_CAMELLIA_CBC";
		case IKE_ENCR_CAMELLIA_CTR: return "ENCR_CAMELLIA_CTR";
		case IKE_ENCR_CAMELLIA_CCM_8: return "ENCR_CAMELLIA_CCM_8";
		case IKE_ENCR_CAMELLIA_CCM_12: return "ENCR_CAMELLIA_CCM_12";
		case IKE_ENCR_CAMELLIA_CCM_16: return "ENCR_CAMELLIA_CCM_16";
		case IKE_ENCR_CHACHA20_POLY1305: return "ENCR_CHACHA20_POLY1305";
		case IKE_ENCR_AES_CCM_8_IIV: return "ENCR_AES_CCM_8_IIV";
		case IKE_ENCR_AES_GCM_16_IIV: return "ENCR_AES_GCM_16_IIV";
		case IKE_ENCR_CHACHA20_POLY1305_IIV: return "ENCR_CHACHA20_POLY1305_IIV";
		default: return NULL;
		}
	case IKE_TRANS_PRF:
		switch (id) {
		case IKE_PRF_HMAC_MD5: return "PRF_HMAC_MD5";
		case IKE_PRF_HMAC_SHA1: return "PRF_HMAC_SHA1";
		case IKE_PRF_HMAC_TIGER: return "PRF_HMAC_TIGER";
		case IKE_PRF_AES128_XCBC: return "PRF_AES128_XCBC";
		case IKE_PRF_HMAC_SHA2_256: return "PRF_HMAC_SHA2_256";
		case IKE_PRF_HMAC_SHA2_384: return "PRF_HMAC_SHA2_384";
		case IKE_PRF_HMAC_SHA2_512: return "PRF_HMAC_SHA2_512";
		case IKE_PRF_AES128_CMAC: return "PRF_AES128_CMAC";
		default: return NULL;
		}
	case IKE_TRANS_INTEG:
		switch (id) {
		case IKE_INTEG_NONE: return "AUTH_NONE";
		case IKE_INTEG_HMAC_MD5_96: return "AUTH_HMAC_MD5_96";
		case IKE_INTEG_HMAC_SHA1_96: return "AUTH_HMAC_SHA1_96";
		case IKE_INTEG_DES_MAC: return "AUTH_DES_MAC";
		case IKE_INTEG_KPDK_MD5: return "AUTH_KPDK_MD5";
		case IKE_INTEG_AES_XCBC_96: return "AUTH_AES_XCBC_96";
		case IKE_INTEG_HMAC_MD5_128: return "AUTH_HMAC_MD5_128";
		case IKE_INTEG_HMAC_SHA1_160: return "AUTH_HMAC_SHA1_160";
		case IKE_INTEG_AES_CMAC_96: return "AUTH_AES_CMAC_96";
		case IKE_INTEG_AES_128_GMAC: return "AUTH_AES_128_GMAC";
		case IKE_INTEG_AES_192_GMAC: return "AUTH_AES_192_GMAC";
		case IKE_INTEG_AES_256_GMAC: return "AUTH_AES_256_GMAC";
		case IKE_INTEG_HMAC_SHA2_256_128: return "AUTH_HMAC_SHA2_256_128";
		case IKE_INTEG_HMAC_SHA2_384_192: return "AUTH_HMAC_SHA2_384_192";
		case IKE_INTEG_HMAC_SHA2_512_256: return "AUTH_HMAC_SHA2_512_256";
		default: return NULL;
		}
	case IKE_TRANS_DH:
		switch (id) {
		case IKE_DH_NONE: return "NONE";
		case IKE_DH_MODP768: return "MODP_768";
		case IKE_DH_MODP1024: return "MODP_1024";
		case IKE_DH_MODP1536: return "MODP_1536";
		case IKE_DH_MODP2048: return "MODP_2048";
		case IKE_DH_MODP3072: return "MODP_3072";
		case IKE_DH_MODP4096: return "MODP_4096";
		case IKE_DH_MODP6144: return "MODP_6144";
		case IKE_DH_MODP8192: return "MODP_8192";
		case IKE_DH_ECP256: return "ECP_256";
		case IKE_DH_ECP384: return "ECP_384";
		case IKE_DH_ECP521: return "ECP_521";
		case IKE_DH_MODP1024_160: return "MODP_1024_160";
		case IKE_DH_MODP2048_224: return "MODP_2048_224";
		case IKE_DH_MODP2048_256: return "MODP_2048_256";
		case IKE_DH_ECP192: return "ECP_192";
		case IKE_DH_ECP224: return "ECP_224";
		case IKE_DH_BRAINPOOL224: return "ECP_224_BP";
		case IKE_DH_BRAINPOOL256: return "ECP_256_BP";
		case IKE_DH_BRAINPOOL384: return "ECP_384_BP";
		case IKE_DH_BRAINPOOL512: return "ECP_512_BP";
		case IKE_DH_CURVE25519: return "CURVE_25519";
		case IKE_DH_CURVE448: return "CURVE_448";
		default: return NULL;
		}
	case IKE_TRANS_ESN:
		return id == IKE_ESN_NO ? "NO_ESN" : id == IKE_ESN_YES ? "ESN" : NULL;
	default:
		if (type >= IKE_TRANS_ADDKE1 && type <= IKE_TRANS_ADDKE7)
			return ike_transform_name(IKE_TRANS_DH, id);
		return NULL;
	}
}

const char *ike_notify_name(uint16_t v)
{
	switch (v) {
	case IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD: return "UNSUPPORTED_CRITICAL_PAYLOAD";
	case IKE_N_INVALID_IKE_SPI: return "INVALID_IKE_SPI";
	case IKE_N_INVALID_MAJOR_VERSION: return "INVALID_MAJOR_VERSION";
	case IKE_N_INVALID_SYNTAX: return "INVALID_SYNTAX";
	case IKE_N_INVALID_MESSAGE_ID: return "INVALID_MESSAGE_ID";
	case IKE_N_INVALID_SPI: return "INVALID_SPI";
	case IKE_N_NO_PROPOSAL_CHOSEN: return "NO_PROPOSAL_CHOSEN";
	case IKE_N_INVALID_KE_PAYLOAD: return "INVALID_KE_PAYLOAD";
	case IKE_N_AUTHENTICATION_FAILED: return "AUTHENTICATION_FAILED";
	case IKE_N_SINGLE_PAIR_REQUIRED: return "SINGLE_PAIR_REQUIRED";
	case IKE_N_NO_ADDITIONAL_SAS: return "NO_ADDITIONAL_SAS";
	case IKE_N_INTERNAL_ADDRESS_FAILURE: return "INTERNAL_ADDRESS_FAILURE";
	case IKE_N_FAILED_CP_REQUIRED: return "FAILED_CP_REQUIRED";
	case IKE_N_TS_UNACCEPTABLE: return "TS_UNACCEPTABLE";
	case IKE_N_INVALID_SELECTORS: return "INVALID_SELECTORS";
	case IKE_N_UNACCEPTABLE_ADDRESSES: return "UNACCEPTABLE_ADDRESSES";
	case IKE_N_UNEXPECTED_NAT_DETECTED: return "UNEXPECTED_NAT_DETECTED";
	case IKE_N_USE_ASSIGNED_HOA: return "USE_ASSIGNED_HoA";
	case IKE_N_TEMPORARY_FAILURE: return "TEMPORARY_FAILURE";
	case IKE_N_CHILD_SA_NOT_FOUND: return "CHILD_SA_NOT_FOUND";
	case IKE_N_INVALID_GROUP_ID: return "INVALID_GROUP_ID";
	case IKE_N_AUTHORIZATION_FAILED: return "AUTHORIZATION_FAILED";
	case IKE_N_STATE_NOT_FOUND: return "STATE_NOT_FOUND";
	case IKE_N_INITIAL_CONTACT: return "INITIAL_CONTACT";
	case IKE_N_SET_WINDOW_SIZE: return "SET_WINDOW_SIZE";
	case IKE_N_ADDITIONAL_TS_POSSIBLE: return "ADDITIONAL_TS_POSSIBLE";
	case IKE_N_IPCOMP_SUPPORTED: return "IPCOMP_SUPPORTED";
	case IKE_N_NAT_DETECTION_SOURCE_IP: return "NAT_DETECTION_SOURCE_IP";
	case IKE_N_NAT_DETECTION_DESTINATION_IP: return "NAT_DETECTION_DESTINATION_IP";
	case IKE_N_COOKIE: return "COOKIE";
	case IKE_N_USE_TRANSPORT_MODE: return "USE_TRANSPORT_MODE";
	case IKE_N_HTTP_CERT_LOOKUP_SUPPORTED: return "HTTP_CERT_LOOKUP_SUPPORTED";
	case IKE_N_REKEY_SA: return "REKEY_SA";
	case IKE_N_ESP_TFC_PADDING_NOT_SUPPORTED: return "ESP_TFC_PADDING_NOT_SUPPORTED";
	case IKE_N_NON_FIRST_FRAGMENTS_ALSO: return "NON_FIRST_FRAGMENTS_ALSO";
	case IKE_N_MOBIKE_SUPPORTED: return "MOBIKE_SUPPORTED";
	case IKE_N_ADDITIONAL_IP4_ADDRESS: return "ADDITIONAL_IP4_ADDRESS";
	case IKE_N_ADDITIONAL_IP6_ADDRESS: return "ADDITIONAL_IP6_ADDRESS";
	case IKE_N_NO_ADDITIONAL_ADDRESSES: return "NO_ADDITIONAL_ADDRESSES";
	case IKE_N_UPDATE_SA_ADDRESSES: return "UPDATE_SA_ADDRESSES";
	case IKE_N_COOKIE2: return "COOKIE2";
	case IKE_N_NO_NATS_ALLOWED: return "NO_NATS_ALLOWED";
	case IKE_N_AUTH_LIFETIME: return "AUTH_LIFETIME";
	case IKE_N_MULTIPLE_AUTH_SUPPORTED: return "MULTIPLE_AUTH_SUPPORTED";
	case IKE_N_ANOTHER_AUTH_FOLLOWS: return "ANOTHER_AUTH_FOLLOWS";
	case IKE_N_REDIRECT_SUPPORTED: return "REDIRECT_SUPPORTED";
	case IKE_N_REDIRECT: return "REDIRECT";
	case IKE_N_REDIRECTED_FROM: return "REDIRECTED_FROM";
	case IKE_N_TICKET_LT_OPAQUE: return "TICKET_LT_OPAQUE";
	case IKE_N_TICKET_REQUEST: return "TICKET_REQUEST";
	case IKE_N_TICKET_ACK: return "TICKET_ACK";
	case IKE_N_TICKET_NACK: return "TICKET_NACK";
	case IKE_N_TICKET_OPAQUE: return "TICKET_OPAQUE";
	case IKE_N_LINK_ID: return "LINK_ID";
	case IKE_N_USE_WESP_MODE: return "USE_WESP_MODE";
	case IKE_N_ROHC_SUPPORTED: return "ROHC_SUPPORTED";
	case IKE_N_EAP_ONLY_AUTHENTICATION: return "EAP_ONLY_AUTHENTICATION";
	case IKE_N_CHILDLESS_IKEV2_SUPPORTED: return "CHILDLESS_IKEV2_SUPPORTED";
	case IKE_N_QUICK_CRASH_DETECTION: return "QUICK_CRASH_DETECTION";
	case IKE_N_IKEV2_MESSAGE_ID_SYNC_SUPPORTED: return "IKEV2_MESSAGE_ID_SYNC_SUPPORTED";
	case IKE_N_IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED: return "IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED";
	case IKE_N_IKEV2_MESSAGE_ID_SYNC: return "IKEV2_MESSAGE_ID_SYNC";
	case IKE_N_IPSEC_REPLAY_COUNTER_SYNC: return "IPSEC_REPLAY_COUNTER_SYNC";
	case IKE_N_SECURE_PASSWORD_METHODS: return "SECURE_PASSWORD_METHODS";
	case IKE_N_PSK_PERSIST: return "PSK_PERSIST";
	case IKE_N_PSK_CONFIRM: return "PSK_CONFIRM";
	case IKE_N_ERX_SUPPORTED: return "ERX_SUPPORTED";
	case IKE_N_IFOM_CAPABILITY: return "IFOM_CAPABILITY";
	case IKE_N_SENDER_REQUEST_ID: return "SENDER_REQUEST_ID";
	case IKE_N_IKEV2_FRAGMENTATION_SUPPORTED: return "IKEV2_FRAGMENTATION_SUPPORTED";
	case IKE_N_SIGNATURE_HASH_ALGORITHMS: return "SIGNATURE_HASH_ALGORITHMS";
	case IKE_N_CLONE_IKE_SA_SUPPORTED: return "CLONE_IKE_SA_SUPPORTED";
	case IKE_N_CLONE_IKE_SA: return "CLONE_IKE_SA";
	case IKE_N_PUZZLE: return "PUZZLE";
	case IKE_N_USE_PPK: return "USE_PPK";
	case IKE_N_PPK_IDENTITY: return "PPK_IDENTITY";
	case IKE_N_NO_PPK_AUTH: return "NO_PPK_AUTH";
	case IKE_N_INTERMEDIATE_EXCHANGE_SUPPORTED: return "INTERMEDIATE_EXCHANGE_SUPPORTED";
	case IKE_N_IP4_ALLOWED: return "IP4_ALLOWED";
	case IKE_N_IP6_ALLOWED: return "IP6_ALLOWED";
	case IKE_N_ADDITIONAL_KEY_EXCHANGE: return "ADDITIONAL_KEY_EXCHANGE";
	case IKE_N_USE_AGGFRAG: return "USE_AGGFRAG";
	default: return NULL;
	}
}

const char *ike_notify_short_name(uint16_t v)
{
	switch (v) {
	case IKE_N_NAT_DETECTION_SOURCE_IP: return "NATD_S_IP";
	case IKE_N_NAT_DETECTION_DESTINATION_IP: return "NATD_D_IP";
	case IKE_N_IKEV2_FRAGMENTATION_SUPPORTED: return "FRAG_SUP";
	case IKE_N_SIGNATURE_HASH_ALGORITHMS: return "HASH_ALG";
	case IKE_N_MULTIPLE_AUTH_SUPPORTED: return "MULT_AUTH";
	case IKE_N_REDIRECT_SUPPORTED: return "REDIR_SUP";
	case IKE_N_ESP_TFC_PADDING_NOT_SUPPORTED: return "ESP_TFC_PAD_N";
	case IKE_N_NON_FIRST_FRAGMENTS_ALSO: return "NON_FIRST_FRAG";
	case IKE_N_MOBIKE_SUPPORTED: return "MOBIKE_SUP";
	case IKE_N_ADDITIONAL_IP4_ADDRESS: return "ADD_4_ADDR";
	case IKE_N_ADDITIONAL_IP6_ADDRESS: return "ADD_6_ADDR";
	case IKE_N_NO_ADDITIONAL_ADDRESSES: return "NO_ADD_ADDR";
	case IKE_N_UPDATE_SA_ADDRESSES: return "UPD_SA_ADDR";
	case IKE_N_INITIAL_CONTACT: return "INIT_CONTACT";
	case IKE_N_EAP_ONLY_AUTHENTICATION: return "EAP_ONLY";
	case IKE_N_IKEV2_MESSAGE_ID_SYNC_SUPPORTED: return "MSG_ID_SYN_SUP";
	case IKE_N_CHILDLESS_IKEV2_SUPPORTED: return "CHDLESS_SUP";
	case IKE_N_USE_TRANSPORT_MODE: return "USE_TRANSP";
	case IKE_N_INVALID_KE_PAYLOAD: return "INVAL_KE";
	case IKE_N_NO_PROPOSAL_CHOSEN: return "NO_PROP";
	case IKE_N_AUTHENTICATION_FAILED: return "AUTH_FAILED";
	case IKE_N_TS_UNACCEPTABLE: return "TS_UNACCEPT";
	default: return ike_notify_name(v);
	}
}

const char *ike_id_type_name(uint8_t v)
{
	switch (v) {
	case IKE_ID_IPV4_ADDR: return "ID_IPV4_ADDR";
	case IKE_ID_FQDN: return "ID_FQDN";
	case IKE_ID_RFC822_ADDR: return "ID_RFC822_ADDR";
	case IKE_ID_IPV6_ADDR: return "ID_IPV6_ADDR";
	case IKE_ID_DER_ASN1_DN: return "ID_DER_ASN1_DN";
	case IKE_ID_DER_ASN1_GN: return "ID_DER_ASN1_GN";
	case IKE_ID_KEY_ID: return "ID_KEY_ID";
	case IKE_ID_FC_NAME: return "ID_FC_NAME";
	case IKE_ID_NULL: return "ID_NULL";
	default: return NULL;
	}
}

const char *ike_cert_encoding_name(uint8_t v)
{
	switch (v) {
	case IKE_CERT_PKCS7: return "PKCS7";
	case IKE_CERT_PGP: return "PGP";
	case IKE_CERT_DNS_KEY: return "DNS_KEY";
	case IKE_CERT_X509_SIG: return "X509_SIG";
	case IKE_CERT_KERBEROS: return "KERBEROS";
	case IKE_CERT_CRL: return "CRL";
	case IKE_CERT_ARL: return "ARL";
	case IKE_CERT_SPKI: return "SPKI";
	case IKE_CERT_X509_ATTR: return "X509_ATTR";
	case IKE_CERT_RAW_RSA: return "RAW_RSA";
	case IKE_CERT_HASH_URL_X509: return "HASH_URL_X509";
	case IKE_CERT_HASH_URL_BUNDLE: return "HASH_URL_BUNDLE";
	case IKE_CERT_OCSP: return "OCSP";
	case IKE_CERT_RAW_PUBLIC_KEY: return "RAW_PUBLIC_KEY";
	default: return NULL;
	}
}

const char *ike_auth_method_name(uint8_t v)
{
	switch (v) {
	case IKE_AUTH_RSA_SIG: return "RSA_DIGITAL_SIGNATURE";
	case IKE_AUTH_PSK: return "SHARED_KEY_MIC";
	case IKE_AUTH_DSS_SIG: return "DSS_DIGITAL_SIGNATURE";
	case IKE_AUTH_ECDSA_256: return "ECDSA_SHA2_256_P256";
	case IKE_AUTH_ECDSA_384: return "ECDSA_SHA2_384_P384";
	case IKE_AUTH_ECDSA_521: return "ECDSA_SHA2_512_P521";
	case IKE_AUTH_GSPAM: return "GSPAM";
	case IKE_AUTH_NULL: return "NULL";
	case IKE_AUTH_DIGITAL_SIGNATURE: return "DIGITAL_SIGNATURE";
	default: return NULL;
	}
}

const char *ike_ts_type_name(uint8_t v)
{
	switch (v) {
	case IKE_TS_IPV4_ADDR_RANGE: return "TS_IPV4_ADDR_RANGE";
	case IKE_TS_IPV6_ADDR_RANGE: return "TS_IPV6_ADDR_RANGE";
	case IKE_TS_FC_ADDR_RANGE: return "TS_FC_ADDR_RANGE";
	case IKE_TS_SECLABEL: return "TS_SECLABEL";
	default: return NULL;
	}
}

const char *ike_cfg_type_name(uint8_t v)
{
	switch (v) {
	case IKE_CFG_REQUEST: return "CFG_REQUEST";
	case IKE_CFG_REPLY: return "CFG_REPLY";
	case IKE_CFG_SET: return "CFG_SET";
	case IKE_CFG_ACK: return "CFG_ACK";
	default: return NULL;
	}
}

const char *ike_cp_attr_name(uint16_t v)
{
	switch (v & IKE_CP_ATTR_TYPE_MASK) {
	case IKE_CP_INTERNAL_IP4_ADDRESS: return "INTERNAL_IP4_ADDRESS";
	case IKE_CP_INTERNAL_IP4_NETMASK: return "INTERNAL_IP4_NETMASK";
	case IKE_CP_INTERNAL_IP4_DNS: return "INTERNAL_IP4_DNS";
	case IKE_CP_INTERNAL_IP4_NBNS: return "INTERNAL_IP4_NBNS";
	case IKE_CP_INTERNAL_IP4_DHCP: return "INTERNAL_IP4_DHCP";
	case IKE_CP_APPLICATION_VERSION: return "APPLICATION_VERSION";
	case IKE_CP_INTERNAL_IP6_ADDRESS: return "INTERNAL_IP6_ADDRESS";
	case IKE_CP_INTERNAL_IP6_DNS: return "INTERNAL_IP6_DNS";
	case IKE_CP_INTERNAL_IP6_DHCP: return "INTERNAL_IP6_DHCP";
	case IKE_CP_INTERNAL_IP4_SUBNET: return "INTERNAL_IP4_SUBNET";
	case IKE_CP_SUPPORTED_ATTRIBUTES: return "SUPPORTED_ATTRIBUTES";
	case IKE_CP_INTERNAL_IP6_SUBNET: return "INTERNAL_IP6_SUBNET";
	case IKE_CP_MIP6_HOME_PREFIX: return "MIP6_HOME_PREFIX";
	case IKE_CP_INTERNAL_IP6_LINK: return "INTERNAL_IP6_LINK";
	case IKE_CP_INTERNAL_IP6_PREFIX: return "INTERNAL_IP6_PREFIX";
	case IKE_CP_HOME_AGENT_ADDRESS: return "HOME_AGENT_ADDRESS";
	case IKE_CP_P_CSCF_IP4_ADDRESS: return "P_CSCF_IP4_ADDRESS";
	case IKE_CP_P_CSCF_IP6_ADDRESS: return "P_CSCF_IP6_ADDRESS";
	case IKE_CP_FTT_KAT: return "FTT_KAT";
	case IKE_CP_EXTERNAL_SOURCE_IP4_NAT_INFO: return "EXTERNAL_SOURCE_IP4_NAT_INFO";
	case IKE_CP_TIMEOUT_PERIOD_FOR_LIVENESS_CHECK: return "TIMEOUT_PERIOD_FOR_LIVENESS_CHECK";
	case IKE_CP_INTERNAL_DNS_DOMAIN: return "INTERNAL_DNS_DOMAIN";
	case IKE_CP_INTERNAL_DNSSEC_TA: return "INTERNAL_DNSSEC_TA";
	default: return NULL;
	}
}

const char *ike_eap_code_name(uint8_t v)
{
	switch (v) {
	case IKE_EAP_REQUEST: return "Request";
	case IKE_EAP_RESPONSE: return "Response";
	case IKE_EAP_SUCCESS: return "Success";
	case IKE_EAP_FAILURE: return "Failure";
	default: return NULL;
	}
}

const char *ike_eap_type_name(uint8_t v)
{
	switch (v) {
	case IKE_EAP_IDENTITY: return "IDENTITY";
	case IKE_EAP_NOTIFICATION: return "NOTIFICATION";
	case IKE_EAP_NAK: return "NAK";
	case IKE_EAP_MD5: return "MD5";
	case IKE_EAP_GTC: return "GTC";
	case IKE_EAP_TLS: return "TLS";
	case IKE_EAP_SIM: return "SIM";
	case IKE_EAP_TTLS: return "TTLS";
	case IKE_EAP_AKA: return "AKA";
	case IKE_EAP_PEAP: return "PEAP";
	case IKE_EAP_MSCHAPV2: return "MSCHAPV2";
	case IKE_EAP_AKA_PRIME: return "AKA'";
	default: return NULL;
	}
}
