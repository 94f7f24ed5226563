#include "lib/cidr.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

/* Address of ip into out (4 or 16 octets); returns its family or -1. */
static int cidr_addr(const char *ip, unsigned char *out)
{
	if (inet_pton(AF_INET, ip, out) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, ip, out) != 1)
		return -1;
	/* ::ffff:a.b.c.d is the IPv4 client of a dual-stack socket. */
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0,	   0,
						 0, 0, 0, 0, 0xff, 0xff};
	if (memcmp(out, mapped, 12) == 0) {
		memmove(out, out + 12, 4);
		return AF_INET;
	}
	return AF_INET6;
}

int cidr_parse(const char *text, struct cidr *cidr_r)
{
	char buf[64];
	const char *slash = strchr(text, '/');
	size_t len = slash != NULL ? (size_t)(slash - text) : strlen(text);
	int max, bits;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, text, len);
	buf[len] = '\0';
	memset(cidr_r, 0, sizeof(*cidr_r));
	cidr_r->family = cidr_addr(buf, cidr_r->addr);
	if (cidr_r->family < 0)
		return -1;
	max = cidr_r->family == AF_INET ? 32 : 128;
	bits = max;
	if (slash != NULL) {
		char *end;
		long n = strtol(slash + 1, &end, 10);

		if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || n < 0 ||
		    n > max)
			return -1;
		bits = (int)n;
	}
	cidr_r->prefix = bits;
	for (int i = bits; i < max; i++)
		cidr_r->addr[i / 8] &= (unsigned char)~(0x80 >> (i % 8));
	return 0;
}

bool cidr_match(const struct cidr *cidr, const char *ip)
{
	unsigned char a[16];
	int family = cidr_addr(ip, a);

	if (family != cidr->family)
		return false;
	for (int i = 0; i < cidr->prefix; i++) {
		unsigned char m = (unsigned char)(0x80 >> (i % 8));

		if ((a[i / 8] & m) != (cidr->addr[i / 8] & m))
			return false;
	}
	return true;
}
