/* constants.h — IANA numbers of IKEv2 (the "Internet Key Exchange Version 2
 * (IKEv2) Parameters" registry; RFC 7296 §3 unless noted).
 *
 * Plain enums so they can be used in switch statements and as array
 * indices; names.c turns them back into text for printing. */
#ifndef PVPN_IKE_CONSTANTS_H
#define PVPN_IKE_CONSTANTS_H

/* RFC 7296 §3.1 */
#define IKE_HEADER_LEN        28
#define IKE_PAYLOAD_HDR_LEN    4
#define IKE_VERSION_2_0     0x20   /* major 2 in the high nibble, minor 0 */
#define IKE_FLAG_I          0x08   /* sent by the original initiator */
#define IKE_FLAG_V          0x10   /* sender can speak a higher major version */
#define IKE_FLAG_R          0x20   /* this is a response */
#define IKE_PAYLOAD_CRITICAL 0x80  /* §3.2: reject the message if not understood */

/* Exchange types, §3.1 */
enum ike_exchange {
	IKE_SA_INIT          = 34,
	IKE_AUTH             = 35,
	IKE_CREATE_CHILD_SA  = 36,
	IKE_INFORMATIONAL    = 37,
	IKE_SESSION_RESUME   = 38,  /* RFC 5723 */
	IKE_GSA_AUTH         = 39,  /* G-IKEv2 */
	IKE_GSA_REGISTRATION = 40,
	IKE_GSA_REKEY        = 41,
	IKE_INTERMEDIATE     = 43,  /* RFC 9242 */
	IKE_FOLLOWUP_KE      = 44,  /* RFC 9370 */
};

/* Payload types, §3.2 */
enum ike_payload_type {
	IKE_PT_NONE    = 0,
	IKE_PT_SA      = 33,
	IKE_PT_KE      = 34,
	IKE_PT_IDI     = 35,
	IKE_PT_IDR     = 36,
	IKE_PT_CERT    = 37,
	IKE_PT_CERTREQ = 38,
	IKE_PT_AUTH    = 39,
	IKE_PT_NONCE   = 40,
	IKE_PT_NOTIFY  = 41,
	IKE_PT_DELETE  = 42,
	IKE_PT_VENDOR  = 43,
	IKE_PT_TSI     = 44,
	IKE_PT_TSR     = 45,
	IKE_PT_SK      = 46,
	IKE_PT_CP      = 47,
	IKE_PT_EAP     = 48,
	IKE_PT_GSPM    = 49,  /* RFC 6467, not decoded */
	IKE_PT_IDG     = 50,  /* G-IKEv2, not decoded */
	IKE_PT_GSA     = 51,
	IKE_PT_KD      = 52,
	IKE_PT_SKF     = 53,  /* RFC 7383 */
	IKE_PT_PS      = 54,  /* RFC 8019, not decoded */
};

/* Security protocol IDs, §3.3.1 */
enum ike_protocol {
	IKE_PROTO_IKE = 1,
	IKE_PROTO_AH  = 2,
	IKE_PROTO_ESP = 3,
};

/* Transform types, §3.3.2 */
enum ike_transform_type {
	IKE_TRANS_ENCR  = 1,
	IKE_TRANS_PRF   = 2,
	IKE_TRANS_INTEG = 3,
	IKE_TRANS_DH    = 4,   /* "Key Exchange Method" since RFC 9370 */
	IKE_TRANS_ESN   = 5,   /* "Sequence Numbers" */
	IKE_TRANS_ADDKE1 = 6,  /* RFC 9370, ADDKE1..ADDKE7 = 6..12 */
	IKE_TRANS_ADDKE7 = 12,
};

/* Transform type 1: encryption algorithms */
enum ike_encr {
	IKE_ENCR_DES_IV64   = 1,
	IKE_ENCR_DES        = 2,
	IKE_ENCR_3DES       = 3,
	IKE_ENCR_RC5        = 4,
	IKE_ENCR_IDEA       = 5,
	IKE_ENCR_CAST       = 6,
	IKE_ENCR_BLOWFISH   = 7,
	IKE_ENCR_3IDEA      = 8,
	IKE_ENCR_DES_IV32   = 9,
	IKE_ENCR_NULL       = 11,
	IKE_ENCR_AES_CBC    = 12,
	IKE_ENCR_AES_CTR    = 13,
	IKE_ENCR_AES_CCM_8  = 14,
	IKE_ENCR_AES_CCM_12 = 15,
	IKE_ENCR_AES_CCM_16 = 16,
	IKE_ENCR_AES_GCM_8  = 18,
	IKE_ENCR_AES_GCM_12 = 19,
	IKE_ENCR_AES_GCM_16 = 20,
	IKE_ENCR_NULL_AUTH_AES_GMAC = 21,
	IKE_ENCR_CAMELLIA_CBC    = 23,
	IKE_ENCR_CAMELLIA_CTR    = 24,
	IKE_ENCR_CAMELLIA_CCM_8  = 25,
	IKE_ENCR_CAMELLIA_CCM_12 = 26,
	IKE_ENCR_CAMELLIA_CCM_16 = 27,
	IKE_ENCR_CHACHA20_POLY1305 = 28,  /* RFC 7634 */
	IKE_ENCR_AES_CCM_8_IIV   = 29,
	IKE_ENCR_AES_GCM_16_IIV  = 30,
	IKE_ENCR_CHACHA20_POLY1305_IIV = 31,
};

/* Transform type 2: pseudorandom functions */
enum ike_prf {
	IKE_PRF_HMAC_MD5      = 1,
	IKE_PRF_HMAC_SHA1     = 2,
	IKE_PRF_HMAC_TIGER    = 3,
	IKE_PRF_AES128_XCBC   = 4,
	IKE_PRF_HMAC_SHA2_256 = 5,
	IKE_PRF_HMAC_SHA2_384 = 6,
	IKE_PRF_HMAC_SHA2_512 = 7,
	IKE_PRF_AES128_CMAC   = 8,
};

/* Transform type 3: integrity algorithms */
enum ike_integ {
	IKE_INTEG_NONE              = 0,
	IKE_INTEG_HMAC_MD5_96       = 1,
	IKE_INTEG_HMAC_SHA1_96      = 2,
	IKE_INTEG_DES_MAC           = 3,
	IKE_INTEG_KPDK_MD5          = 4,
	IKE_INTEG_AES_XCBC_96       = 5,
	IKE_INTEG_HMAC_MD5_128      = 6,
	IKE_INTEG_HMAC_SHA1_160     = 7,
	IKE_INTEG_AES_CMAC_96       = 8,
	IKE_INTEG_AES_128_GMAC      = 9,
	IKE_INTEG_AES_192_GMAC      = 10,
	IKE_INTEG_AES_256_GMAC      = 11,
	IKE_INTEG_HMAC_SHA2_256_128 = 12,
	IKE_INTEG_HMAC_SHA2_384_192 = 13,
	IKE_INTEG_HMAC_SHA2_512_256 = 14,
};

/* Transform type 4: Diffie-Hellman / key exchange groups */
enum ike_dh {
	IKE_DH_NONE         = 0,
	IKE_DH_MODP768      = 1,
	IKE_DH_MODP1024     = 2,
	IKE_DH_MODP1536     = 5,
	IKE_DH_MODP2048     = 14,
	IKE_DH_MODP3072     = 15,
	IKE_DH_MODP4096     = 16,
	IKE_DH_MODP6144     = 17,
	IKE_DH_MODP8192     = 18,
	IKE_DH_ECP256       = 19,
	IKE_DH_ECP384       = 20,
	IKE_DH_ECP521       = 21,
	IKE_DH_MODP1024_160 = 22,
	IKE_DH_MODP2048_224 = 23,
	IKE_DH_MODP2048_256 = 24,
	IKE_DH_ECP192       = 25,
	IKE_DH_ECP224       = 26,
	IKE_DH_BRAINPOOL224 = 27,
	IKE_DH_BRAINPOOL256 = 28,
	IKE_DH_BRAINPOOL384 = 29,
	IKE_DH_BRAINPOOL512 = 30,
	IKE_DH_CURVE25519   = 31,
	IKE_DH_CURVE448     = 32,
};

/* Transform type 5 */
enum ike_esn {
	IKE_ESN_NO  = 0,
	IKE_ESN_YES = 1,
};

/* Transform attributes, §3.3.5.  The high bit (AF) set means TV format. */
#define IKE_ATTR_AF          0x8000
#define IKE_ATTR_KEY_LENGTH  14

/* ID types, §3.5 */
enum ike_id_type {
	IKE_ID_IPV4_ADDR   = 1,
	IKE_ID_FQDN        = 2,
	IKE_ID_RFC822_ADDR = 3,
	IKE_ID_IPV6_ADDR   = 5,
	IKE_ID_DER_ASN1_DN = 9,
	IKE_ID_DER_ASN1_GN = 10,
	IKE_ID_KEY_ID      = 11,
	IKE_ID_FC_NAME     = 12,  /* RFC 4595 */
	IKE_ID_NULL        = 13,  /* RFC 7619 */
};

/* Certificate encodings, §3.6 */
enum ike_cert_encoding {
	IKE_CERT_PKCS7          = 1,
	IKE_CERT_PGP            = 2,
	IKE_CERT_DNS_KEY        = 3,
	IKE_CERT_X509_SIG       = 4,
	IKE_CERT_KERBEROS       = 6,
	IKE_CERT_CRL            = 7,
	IKE_CERT_ARL            = 8,
	IKE_CERT_SPKI           = 9,
	IKE_CERT_X509_ATTR      = 10,
	IKE_CERT_RAW_RSA        = 11,
	IKE_CERT_HASH_URL_X509  = 12,
	IKE_CERT_HASH_URL_BUNDLE = 13,
	IKE_CERT_OCSP           = 14,  /* RFC 4806 */
	IKE_CERT_RAW_PUBLIC_KEY = 15,  /* RFC 7670 */
};

/* Authentication methods, §3.8 */
enum ike_auth_method {
	IKE_AUTH_RSA_SIG    = 1,
	IKE_AUTH_PSK        = 2,   /* Shared Key Message Integrity Code */
	IKE_AUTH_DSS_SIG    = 3,
	IKE_AUTH_ECDSA_256  = 9,   /* RFC 4754 */
	IKE_AUTH_ECDSA_384  = 10,
	IKE_AUTH_ECDSA_521  = 11,
	IKE_AUTH_GSPAM      = 12,  /* RFC 6467 */
	IKE_AUTH_NULL       = 13,  /* RFC 7619 */
	IKE_AUTH_DIGITAL_SIGNATURE = 14,  /* RFC 7427 */
};

/* Notify message types, §3.10.1 (errors < 16384, status >= 16384) */
enum ike_notify_type {
	IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD = 1,
	IKE_N_INVALID_IKE_SPI              = 4,
	IKE_N_INVALID_MAJOR_VERSION        = 5,
	IKE_N_INVALID_SYNTAX               = 7,
	IKE_N_INVALID_MESSAGE_ID           = 9,
	IKE_N_INVALID_SPI                  = 11,
	IKE_N_NO_PROPOSAL_CHOSEN           = 14,
	IKE_N_INVALID_KE_PAYLOAD           = 17,
	IKE_N_AUTHENTICATION_FAILED        = 24,
	IKE_N_SINGLE_PAIR_REQUIRED         = 34,
	IKE_N_NO_ADDITIONAL_SAS            = 35,
	IKE_N_INTERNAL_ADDRESS_FAILURE     = 36,
	IKE_N_FAILED_CP_REQUIRED           = 37,
	IKE_N_TS_UNACCEPTABLE              = 38,
	IKE_N_INVALID_SELECTORS            = 39,
	IKE_N_UNACCEPTABLE_ADDRESSES       = 40,
	IKE_N_UNEXPECTED_NAT_DETECTED      = 41,
	IKE_N_USE_ASSIGNED_HOA             = 42,
	IKE_N_TEMPORARY_FAILURE            = 43,
	IKE_N_CHILD_SA_NOT_FOUND           = 44,
	IKE_N_INVALID_GROUP_ID             = 45,
	IKE_N_AUTHORIZATION_FAILED         = 46,
	IKE_N_STATE_NOT_FOUND              = 47,

	IKE_N_INITIAL_CONTACT              = 16384,
	IKE_N_SET_WINDOW_SIZE              = 16385,
	IKE_N_ADDITIONAL_TS_POSSIBLE       = 16386,
	IKE_N_IPCOMP_SUPPORTED             = 16387,
	IKE_N_NAT_DETECTION_SOURCE_IP      = 16388,
	IKE_N_NAT_DETECTION_DESTINATION_IP = 16389,
	IKE_N_COOKIE                       = 16390,
	IKE_N_USE_TRANSPORT_MODE           = 16391,
	IKE_N_HTTP_CERT_LOOKUP_SUPPORTED   = 16392,
	IKE_N_REKEY_SA                     = 16393,
	IKE_N_ESP_TFC_PADDING_NOT_SUPPORTED = 16394,
	IKE_N_NON_FIRST_FRAGMENTS_ALSO     = 16395,
	IKE_N_MOBIKE_SUPPORTED             = 16396,  /* RFC 4555 */
	IKE_N_ADDITIONAL_IP4_ADDRESS       = 16397,
	IKE_N_ADDITIONAL_IP6_ADDRESS       = 16398,
	IKE_N_NO_ADDITIONAL_ADDRESSES      = 16399,
	IKE_N_UPDATE_SA_ADDRESSES          = 16400,
	IKE_N_COOKIE2                      = 16401,
	IKE_N_NO_NATS_ALLOWED              = 16402,
	IKE_N_AUTH_LIFETIME                = 16403,  /* RFC 4478 */
	IKE_N_MULTIPLE_AUTH_SUPPORTED      = 16404,  /* RFC 4739 */
	IKE_N_ANOTHER_AUTH_FOLLOWS         = 16405,
	IKE_N_REDIRECT_SUPPORTED           = 16406,  /* RFC 5685 */
	IKE_N_REDIRECT                     = 16407,
	IKE_N_REDIRECTED_FROM              = 16408,
	IKE_N_TICKET_LT_OPAQUE             = 16409,  /* RFC 5723 */
	IKE_N_TICKET_REQUEST               = 16410,
	IKE_N_TICKET_ACK                   = 16411,
	IKE_N_TICKET_NACK                  = 16412,
	IKE_N_TICKET_OPAQUE                = 16413,
	IKE_N_LINK_ID                      = 16414,
	IKE_N_USE_WESP_MODE                = 16415,
	IKE_N_ROHC_SUPPORTED               = 16416,
	IKE_N_EAP_ONLY_AUTHENTICATION      = 16417,  /* RFC 5998 */
	IKE_N_CHILDLESS_IKEV2_SUPPORTED    = 16418,  /* RFC 6023 */
	IKE_N_QUICK_CRASH_DETECTION        = 16419,
	IKE_N_IKEV2_MESSAGE_ID_SYNC_SUPPORTED = 16420,
	IKE_N_IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED = 16421,
	IKE_N_IKEV2_MESSAGE_ID_SYNC        = 16422,
	IKE_N_IPSEC_REPLAY_COUNTER_SYNC    = 16423,
	IKE_N_SECURE_PASSWORD_METHODS      = 16424,
	IKE_N_PSK_PERSIST                  = 16425,
	IKE_N_PSK_CONFIRM                  = 16426,
	IKE_N_ERX_SUPPORTED                = 16427,
	IKE_N_IFOM_CAPABILITY              = 16428,
	IKE_N_SENDER_REQUEST_ID            = 16429,
	IKE_N_IKEV2_FRAGMENTATION_SUPPORTED = 16430, /* RFC 7383 */
	IKE_N_SIGNATURE_HASH_ALGORITHMS    = 16431,  /* RFC 7427 */
	IKE_N_CLONE_IKE_SA_SUPPORTED       = 16432,
	IKE_N_CLONE_IKE_SA                 = 16433,
	IKE_N_PUZZLE                       = 16434,
	IKE_N_USE_PPK                      = 16435,
	IKE_N_PPK_IDENTITY                 = 16436,
	IKE_N_NO_PPK_AUTH                  = 16437,
	IKE_N_INTERMEDIATE_EXCHANGE_SUPPORTED = 16438,
	IKE_N_IP4_ALLOWED                  = 16439,
	IKE_N_IP6_ALLOWED                  = 16440,
	IKE_N_ADDITIONAL_KEY_EXCHANGE      = 16441,
	IKE_N_USE_AGGFRAG                  = 16442,
};

/* Hash algorithms in SIGNATURE_HASH_ALGORITHMS, RFC 7427 §7 */
enum ike_hash_alg {
	IKE_HASH_SHA1     = 1,
	IKE_HASH_SHA2_256 = 2,
	IKE_HASH_SHA2_384 = 3,
	IKE_HASH_SHA2_512 = 4,
	IKE_HASH_IDENTITY = 5,
};

/* Traffic selector types, §3.13.1 */
enum ike_ts_type {
	IKE_TS_IPV4_ADDR_RANGE = 7,
	IKE_TS_IPV6_ADDR_RANGE = 8,
	IKE_TS_FC_ADDR_RANGE   = 9,   /* RFC 4595, not decoded */
	IKE_TS_SECLABEL        = 10,  /* RFC 9478, not decoded */
};

/* Configuration payload types, §3.15 */
enum ike_cfg_type {
	IKE_CFG_REQUEST = 1,
	IKE_CFG_REPLY   = 2,
	IKE_CFG_SET     = 3,
	IKE_CFG_ACK     = 4,
};

/* Configuration attribute types, §3.15.1 (the R bit is 0x8000) */
enum ike_cp_attr_type {
	IKE_CP_INTERNAL_IP4_ADDRESS = 1,
	IKE_CP_INTERNAL_IP4_NETMASK = 2,
	IKE_CP_INTERNAL_IP4_DNS     = 3,
	IKE_CP_INTERNAL_IP4_NBNS    = 4,
	IKE_CP_INTERNAL_IP4_DHCP    = 6,
	IKE_CP_APPLICATION_VERSION  = 7,
	IKE_CP_INTERNAL_IP6_ADDRESS = 8,
	IKE_CP_INTERNAL_IP6_DNS     = 10,
	IKE_CP_INTERNAL_IP6_DHCP    = 12,
	IKE_CP_INTERNAL_IP4_SUBNET  = 13,
	IKE_CP_SUPPORTED_ATTRIBUTES = 14,
	IKE_CP_INTERNAL_IP6_SUBNET  = 15,
	IKE_CP_MIP6_HOME_PREFIX     = 16,
	IKE_CP_INTERNAL_IP6_LINK    = 17,
	IKE_CP_INTERNAL_IP6_PREFIX  = 18,
	IKE_CP_HOME_AGENT_ADDRESS   = 19,
	IKE_CP_P_CSCF_IP4_ADDRESS   = 20,
	IKE_CP_P_CSCF_IP6_ADDRESS   = 21,
	IKE_CP_FTT_KAT              = 22,
	IKE_CP_EXTERNAL_SOURCE_IP4_NAT_INFO = 23,
	IKE_CP_TIMEOUT_PERIOD_FOR_LIVENESS_CHECK = 24,
	IKE_CP_INTERNAL_DNS_DOMAIN  = 25,  /* RFC 8598 */
	IKE_CP_INTERNAL_DNSSEC_TA   = 26,  /* RFC 8598 */
};
#define IKE_CP_ATTR_R_BIT   0x8000
#define IKE_CP_ATTR_TYPE_MASK 0x7fff

/* EAP codes and a few method types (RFC 3748 §4, §5) */
enum ike_eap_code {
	IKE_EAP_REQUEST  = 1,
	IKE_EAP_RESPONSE = 2,
	IKE_EAP_SUCCESS  = 3,
	IKE_EAP_FAILURE  = 4,
};
enum ike_eap_type {
	IKE_EAP_IDENTITY     = 1,
	IKE_EAP_NOTIFICATION = 2,
	IKE_EAP_NAK          = 3,
	IKE_EAP_MD5          = 4,
	IKE_EAP_GTC          = 6,
	IKE_EAP_TLS          = 13,
	IKE_EAP_SIM          = 18,
	IKE_EAP_TTLS         = 21,
	IKE_EAP_AKA          = 23,
	IKE_EAP_PEAP         = 25,
	IKE_EAP_MSCHAPV2     = 26,
	IKE_EAP_AKA_PRIME    = 50,
};

#endif
