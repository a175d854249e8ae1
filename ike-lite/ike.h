/* ike.h — the public header of ike-lite, the IKEv2 engine.
 *
 * ike-lite knows IKEv2 messages, payloads, crypto, key derivation and the
 * exchanges; it knows nothing of sockets, netlink, files or clocks. */
#ifndef PVPN_IKE_H
#define PVPN_IKE_H

#endif
