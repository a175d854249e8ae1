/* payload.h — internal to ike-lite: per-payload decode and encode, shared
 * by message.c (chains, builder) and payload.c (bodies). */
#ifndef PVPN_IKE_PAYLOAD_H
#define PVPN_IKE_PAYLOAD_H

#include "ike-lite/message.h"
#include "lib/reader.h"

/* Decode p->body (p->type, p->offset set) into p->u, taking sub-arrays
 * from m's pools.  base is the absolute offset of the body (for error
 * messages). */
int ike_payload_decode(struct ike_message *m, struct ike_payload *p, struct pvpn_err *err);

/* Write the body of p (everything after the generic header). */
int ike_payload_encode(struct writer *w, const struct ike_payload *p, struct pvpn_err *err);

/* Payload types this codec decodes (others are kept raw). */
bool ike_payload_known(uint8_t type);
/* Payload types RFC 7296 allows at most once in a chain. */
bool ike_payload_singleton(uint8_t type);

/* "SA", or "payload 99" for an unknown type, into a caller's buffer. */
const char *ike_payload_label(uint8_t type, char *buf, size_t cap);

#endif
