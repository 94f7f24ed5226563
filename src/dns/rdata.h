/*
 * Pure parsers for the record data libunbound returns (network order,
 * names uncompressed) and for the names the resolver is asked for: no
 * I/O, no globals, so they are unit tested and fuzzed on their own.
 *
 * SECURITY: rdata comes from the network. Every read is bounded by the
 * given length; a name is accepted only when it is a host name: labels of
 * 1 to 63 letters, digits, '-' or '_', at most DNS_NAME_MAX characters.
 */
#ifndef DNS_RDATA_H
#define DNS_RDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dns/resolver.h"

/* Size of a buffer for a name in text form: DNS_NAME_MAX and the NUL. */
#define DNS_NAME_BUF (DNS_NAME_MAX + 1)

/*
 * Is name a host name as above? One final dot is allowed; the root alone
 * ("" or ".") is not a host name.
 */
bool dns_name_valid(const char *name);

/*
 * Read the uncompressed wire name at the start of p[0..len) into out (at
 * least DNS_NAME_BUF bytes) in text form without the final dot: "" for the
 * root. Returns the bytes the name took (>= 1), or -1 when it is
 * malformed (compressed, truncated, too long) or not a host name.
 */
int dns_rdata_name(const unsigned char *p, size_t len, char *out);

/*
 * MX rdata (RFC 1035 3.3.9): preference, then the exchange, into
 * name (DNS_NAME_BUF bytes; "" for the null MX of RFC 7505). Returns 0, or
 * -1 when malformed or the exchange is not a host name.
 */
int dns_rdata_mx(const unsigned char *rd, size_t len, unsigned *pref_r,
		 char *name);

/*
 * TXT rdata (RFC 1035 3.3.14): its character-strings joined (RFC 7208
 * 3.3) into out[0..size) and NUL-terminated; *len_r is the length.
 * Returns 0, -1 when malformed or holding a NUL byte, -2 when the text
 * does not fit in size - 1 bytes.
 */
int dns_rdata_txt(const unsigned char *rd, size_t len, char *out, size_t size,
		  size_t *len_r);

/*
 * TLSA rdata (RFC 6698 2.1): the three fields, and *data_r / *data_len_r
 * pointing into rd. Returns 0, or -1 when shorter than 4 bytes.
 */
int dns_rdata_tlsa(const unsigned char *rd, size_t len, uint8_t *usage_r,
		   uint8_t *selector_r, uint8_t *mtype_r,
		   const unsigned char **data_r, size_t *data_len_r);

/*
 * The reverse-lookup name of addr into out (size >= 74):
 * "1.2.0.192.in-addr.arpa" or the 32 nibbles of ip6.arpa. An IPv4-mapped
 * IPv6 address gives its in-addr.arpa name. Returns 0, or -1 for another
 * family.
 */
int dns_ptr_qname(const struct sockaddr *addr, char *out, size_t size);

#endif
