/* lib/cidr: parsing and matching of address ranges, table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/cidr.h"

static const struct {
	const char *text;
	int ok;
} parse_rows[] = {
	{"192.0.2.0/24", 0},  {"192.0.2.1", 0},
	{"0.0.0.0/0", 0},     {"2001:db8::/32", 0},
	{"::1", 0},	      {"::/0", 0},
	{"192.0.2.0/33", -1}, {"2001:db8::/129", -1},
	{"192.0.2.0/", -1},   {"192.0.2.0/-1", -1},
	{"192.0.2.0/2x", -1}, {"/24", -1},
	{"example.org", -1},  {"", -1},
	{"192.0.2.256", -1},  {"192.0.2.0/ 8", -1},
};

static void test_parse(void **state)
{
	for (size_t i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]);
	     i++) {
		struct cidr c;

		assert_int_equal(cidr_parse(parse_rows[i].text, &c),
				 parse_rows[i].ok);
	}
}

static const struct {
	const char *range;
	const char *ip;
	bool match;
} match_rows[] = {
	{"192.0.2.0/24", "192.0.2.77", true},
	{"192.0.2.0/24", "192.0.3.1", false},
	{"192.0.2.77/24", "192.0.2.1", true}, /* host bits ignored */
	{"192.0.2.1", "192.0.2.1", true},
	{"192.0.2.1", "192.0.2.2", false},
	{"10.0.0.0/8", "10.255.255.255", true},
	{"10.0.0.0/9", "10.128.0.1", false},
	{"0.0.0.0/0", "203.0.113.9", true},
	{"0.0.0.0/0", "::1", false},		   /* families never mix */
	{"127.0.0.0/8", "::ffff:127.0.0.1", true}, /* mapped is IPv4 */
	{"2001:db8::/32", "2001:db8:1::5", true},
	{"2001:db8::/32", "2001:db9::5", false},
	{"::1", "::1", true},
	{"::/0", "192.0.2.1", false},
	{"192.0.2.0/24", "not an address", false},
};

static void test_match(void **state)
{
	for (size_t i = 0; i < sizeof(match_rows) / sizeof(match_rows[0]);
	     i++) {
		struct cidr c;

		assert_int_equal(cidr_parse(match_rows[i].range, &c), 0);
		if (cidr_match(&c, match_rows[i].ip) != match_rows[i].match)
			fail_msg("row %zu: %s in %s", i, match_rows[i].ip,
				 match_rows[i].range);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
