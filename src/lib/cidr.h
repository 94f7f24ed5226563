/*
 * Address ranges: "192.0.2.0/24", "2001:db8::/32", or a bare address.
 * Pure functions, for trusted-network lists in the configuration.
 */
#ifndef LIB_CIDR_H
#define LIB_CIDR_H

#include <stdbool.h>

struct cidr {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* network, host bits cleared */
	int prefix;		/* 0..32 or 0..128 */
};

/* Parse text; returns 0, or -1 when it is not a range or address. */
int cidr_parse(const char *text, struct cidr *cidr_r)
	__attribute__((warn_unused_result));

/* Does ip (textual; IPv4-mapped IPv6 counts as IPv4) fall in cidr? */
bool cidr_match(const struct cidr *cidr, const char *ip);

#endif
