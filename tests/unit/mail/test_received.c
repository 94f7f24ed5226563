/*
 * mail/received: exact bytes of the trace headers, the protocol name table,
 * and HELO text that tries to break out of its place.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "mail/received.h"

/* Sun, 22 Nov 2026 00:21:37 +0000 */
#define WHEN ((time_t)1795306897)
#define DATE "Sun, 22 Nov 2026 00:21:37 +0000"

struct row {
	const char *name;
	struct received_info ri;
	const char *want;
	bool short_lines; /* every line fits in 78 characters */
};

static const struct row rows[] = {
	{
		"tls, rdns, one recipient",
		{.helo = "helo.example",
		 .peer_ip = "192.0.2.1",
		 .peer_rdns = "helo.example",
		 .by_host = "mx.example.org",
		 .protocol = "ESMTPS",
		 .tls_version = "TLSv1.3",
		 .tls_cipher = "TLS_AES_256_GCM_SHA384",
		 .id = "1A2B3C4D5E6F",
		 .for_rcpt = "user@example.org",
		 .when = WHEN},
		"Received: from helo.example (helo.example [192.0.2.1])\r\n"
		"\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)\r\n"
		"\tby mx.example.org (postern) with ESMTPS id 1A2B3C4D5E6F\r\n"
		"\tfor <user@example.org>; " DATE "\r\n",
		true,
	},
	{
		"plain, no rdns, several recipients",
		{.helo = "client.example",
		 .peer_ip = "192.0.2.7",
		 .by_host = "mx.example.org",
		 .protocol = "ESMTP",
		 .id = "0123456789AB",
		 .when = WHEN},
		"Received: from client.example ([192.0.2.7])\r\n"
		"\tby mx.example.org (postern) with ESMTP id 0123456789AB;\r\n"
		"\t" DATE "\r\n",
		true,
	},
	{
		"ipv6 with rdns, date on the by line",
		{.helo = "[IPv6:2001:db8::5]",
		 .peer_ip = "2001:db8::5",
		 .peer_rdns = "v6.example",
		 .by_host = "mx",
		 .protocol = "SMTP",
		 .id = "X",
		 .when = WHEN},
		"Received: from [IPv6:2001:db8::5] (v6.example "
		"[IPv6:2001:db8::5])"
		"\r\n"
		"\tby mx (postern) with SMTP id X; " DATE "\r\n",
		true,
	},
	{
		"hidden client address, authenticated",
		{.helo = "laptop.example",
		 .peer_ip = "198.51.100.9",
		 .peer_rdns = "home.example",
		 .by_host = "mx.example.org",
		 .protocol = "ESMTPSA",
		 .tls_version = "TLSv1.2",
		 .tls_cipher = "ECDHE-RSA-AES128-GCM-SHA256",
		 .id = "00000000000F",
		 .for_rcpt = "friend@example.net",
		 .when = WHEN,
		 .hide_ip = true},
		"Received: from laptop.example\r\n"
		"\t(using TLSv1.2 with cipher ECDHE-RSA-AES128-GCM-SHA256)\r\n"
		"\tby mx.example.org (postern) with ESMTPSA id 00000000000F\r\n"
		"\tfor <friend@example.net>; " DATE "\r\n",
		true,
	},
	{
		"no helo, no protocol, no id, tls without cipher",
		{.peer_ip = "192.0.2.1",
		 .by_host = "mx.example.org",
		 .tls_version = "TLSv1.3",
		 .when = WHEN},
		"Received: from unknown ([192.0.2.1])\r\n"
		"\t(using TLSv1.3)\r\n"
		"\tby mx.example.org (postern); " DATE "\r\n",
		true,
	},
	{
		"helo with CRLF and a header",
		{.helo = "evil\r\nX-Injected: yes",
		 .peer_ip = "192.0.2.1",
		 .by_host = "mx",
		 .protocol = "ESMTP",
		 .id = "ID",
		 .for_rcpt = "u@x",
		 .when = WHEN},
		"Received: from evil??X-Injected:?yes ([192.0.2.1])\r\n"
		"\tby mx (postern) with ESMTP id ID\r\n"
		"\tfor <u@x>; " DATE "\r\n",
		true,
	},
	{
		"helo that closes the comment, escapes and fakes a date",
		{.helo = "a) (b\\c; Mon, 1 Jan 2001",
		 .peer_ip = "192.0.2.1",
		 .peer_rdns = "r)d\r\nns",
		 .by_host = "mx",
		 .protocol = "ESMTP",
		 .id = "ID",
		 .for_rcpt = "u\r\n(>@x",
		 .when = WHEN},
		"Received: from a???b?c??Mon,?1?Jan?2001 (r?d??ns "
		"[192.0.2.1])\r\n"
		"\tby mx (postern) with ESMTP id ID\r\n"
		"\tfor <u????@x>; " DATE "\r\n",
		true,
	},
	{
		"helo with 8-bit and NUL-free control bytes",
		{.helo = "h\xc3\xa9llo\x01\x7f",
		 .peer_ip = "192.0.2.1",
		 .by_host = "mx",
		 .protocol = "ESMTP",
		 .for_rcpt = "j\xc3\xb6rg@example.de",
		 .when = WHEN},
		"Received: from h??llo?? ([192.0.2.1])\r\n"
		"\tby mx (postern) with ESMTP\r\n"
		"\tfor <j\xc3\xb6rg@example.de>; " DATE "\r\n",
		true,
	},
	{
		"over-long helo is cut",
		{.helo = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			 "xxxxx"
			 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		 .peer_ip = "192.0.2.1",
		 .by_host = "mx",
		 .protocol = "ESMTP",
		 .for_rcpt = "u@x",
		 .when = WHEN},
		"Received: from "
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"x"
		"x...\r\n"
		"\t([192.0.2.1])\r\n"
		"\tby mx (postern) with ESMTP\r\n"
		"\tfor <u@x>; " DATE "\r\n",
		false,
	},
	{
		"long rdns folds inside the comment",
		{.helo = "h.example",
		 .peer_ip = "192.0.2.1",
		 .peer_rdns = "a-very-long-reverse-name.customers.dynamic-pool."
			      "isp-network.example",
		 .by_host = "mx",
		 .protocol = "ESMTP",
		 .id = "ID",
		 .for_rcpt = "u@x",
		 .when = WHEN},
		"Received: from h.example\r\n"
		"\t(a-very-long-reverse-name.customers.dynamic-pool.isp-"
		"network."
		"example\r\n"
		"\t[192.0.2.1])\r\n"
		"\tby mx (postern) with ESMTP id ID\r\n"
		"\tfor <u@x>; " DATE "\r\n",
		true,
	},
	{
		"long recipient moves the date",
		{.helo = "h",
		 .peer_ip = "192.0.2.1",
		 .by_host = "mx",
		 .protocol = "ESMTP",
		 .for_rcpt = "a.rather.long.local.part.for.testing@example.org",
		 .when = WHEN},
		"Received: from h ([192.0.2.1])\r\n"
		"\tby mx (postern) with ESMTP\r\n"
		"\tfor <a.rather.long.local.part.for.testing@example.org>;\r\n"
		"\t" DATE "\r\n",
		true,
	},
};

/* Every line ends in CRLF, has no other CR or LF, and continues with TAB. */
static void check_shape(const char *s, size_t len, bool short_lines)
{
	size_t start = 0;

	assert_true(len >= 2);
	assert_memory_equal(s + len - 2, "\r\n", 2);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\r') {
			assert_int_equal(s[i + 1], '\n');
			if (short_lines)
				assert_true(i - start <= 78);
			if (i + 2 < len)
				assert_int_equal(s[i + 2], '\t');
			start = i + 2;
			i++;
		} else {
			assert_int_not_equal(s[i], '\n');
		}
	}
}

static void test_rows(void **state)
{
	char buf[RECEIVED_HEADER_MAX];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t n = received_format(buf, sizeof(buf), &rows[i].ri);

		if (n != strlen(rows[i].want) || strcmp(buf, rows[i].want) != 0)
			fail_msg("row \"%s\":\n got: [%s]\nwant: [%s]",
				 rows[i].name, buf, rows[i].want);
		check_shape(buf, n, rows[i].short_lines);
	}
}

static void test_too_small(void **state)
{
	char buf[RECEIVED_HEADER_MAX];
	size_t want = strlen(rows[0].want);

	assert_int_equal(received_format(buf, want, &rows[0].ri), 0);
	assert_string_equal(buf, "");
	assert_int_equal(received_format(buf, want + 1, &rows[0].ri), want);
	assert_string_equal(buf, rows[0].want);
	assert_int_equal(received_format(buf, 0, &rows[0].ri), 0);
}

/* Every field at its worst still fits RECEIVED_HEADER_MAX. */
static void test_worst_case_fits(void **state)
{
	char big[4096], buf[RECEIVED_HEADER_MAX];
	struct received_info ri;

	memset(big, '(', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ri = (struct received_info){
		.helo = big,
		.peer_ip = big,
		.peer_rdns = big,
		.by_host = big,
		.protocol = big,
		.tls_version = big,
		.tls_cipher = big,
		.id = big,
		.for_rcpt = big,
		.when = WHEN,
	};
	assert_true(received_format(buf, sizeof(buf), &ri) > 0);
	check_shape(buf, strlen(buf), false);
	assert_null(strstr(buf, "(("));
}

static void test_protocol_table(void **state)
{
	static const struct {
		bool esmtp, tls, auth, utf8;
		const char *want;
	} t[] = {
		{false, false, false, false, "SMTP"},
		{true, false, false, false, "ESMTP"},
		{true, true, false, false, "ESMTPS"},
		{true, false, true, false, "ESMTPA"},
		{true, true, true, false, "ESMTPSA"},
		{true, false, false, true, "UTF8SMTP"},
		{true, true, false, true, "UTF8SMTPS"},
		{true, false, true, true, "UTF8SMTPA"},
		{true, true, true, true, "UTF8SMTPSA"},
		/* Without EHLO there is no AUTH or SMTPUTF8 to name. */
		{false, true, false, false, "SMTP"},
		{false, true, true, false, "SMTP"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_string_equal(received_protocol(t[i].esmtp, t[i].tls,
						      t[i].auth, t[i].utf8),
				    t[i].want);
}

static void test_date(void **state)
{
	static const struct {
		time_t when;
		const char *want;
	} t[] = {
		{0, "Thu, 1 Jan 1970 00:00:00 +0000"},
		{983682367, "Sun, 4 Mar 2001 05:06:07 +0000"},
		{946684799, "Fri, 31 Dec 1999 23:59:59 +0000"},
		{1709251199, "Thu, 29 Feb 2024 23:59:59 +0000"},
		{WHEN, DATE},
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(received_date(buf, sizeof(buf), t[i].when),
				 strlen(t[i].want));
		assert_string_equal(buf, t[i].want);
	}
	assert_int_equal(received_date(buf, 10, WHEN), 0);
	assert_string_equal(buf, "");
}

static void test_return_path(void **state)
{
	static const struct {
		const char *sender;
		const char *want;
	} t[] = {
		{"user@example.org", "Return-Path: <user@example.org>\r\n"},
		{"", "Return-Path: <>\r\n"},
		{NULL, "Return-Path: <>\r\n"},
		{"a\r\nX: y@b", "Return-Path: <a??X: y@b>\r\n"},
	};
	char buf[RECEIVED_RETURN_PATH_MAX];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(
			received_return_path(buf, sizeof(buf), t[i].sender),
			strlen(t[i].want));
		assert_string_equal(buf, t[i].want);
	}
	assert_int_equal(received_return_path(buf, 10, "a@b"), 0);
	assert_string_equal(buf, "");
}

/* Counted whole and one octet at a time: the same answer. */
static void test_hops(void **state)
{
	static const struct {
		const char *text;
		unsigned count;
		bool done;
	} hops[] = {
		{"", 0, false},
		{"Received: a\r\nReceived: b\r\n\r\nReceived: body\r\n", 2,
		 true},
		{"RECEIVED:x\r\nreceived:\r\n", 2, false},
		/* Folded value lines and look-alikes are not fields. */
		{"Received: a\r\n Received: folded\r\n\tReceived: f\r\n", 1,
		 false},
		{"X-Received: a\r\nReceivedx: b\r\nReceived b\r\n", 0, false},
		{"Subject: Received: no\r\nReceive: no\r\n", 0, false},
		/* A lone CR or an LF alone do not end the header. */
		{"A: b\r\n\r\rReceived: c\r\n", 0, false},
		{"A: b\r\n\nReceived: c\r\n", 1, false},
		{"\r\nReceived: c\r\n", 0, true},
		{"Received:", 1, false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(hops) / sizeof(hops[0]); i++) {
		struct received_hops whole = {0}, bytes = {0};
		size_t len = strlen(hops[i].text);

		received_hops_feed(&whole, hops[i].text, len);
		for (size_t j = 0; j < len; j++)
			received_hops_feed(&bytes, hops[i].text + j, 1);
		assert_int_equal(whole.count, hops[i].count);
		assert_int_equal(bytes.count, hops[i].count);
		assert_int_equal(whole.done, hops[i].done);
		assert_int_equal(bytes.done, hops[i].done);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_too_small),
		cmocka_unit_test(test_worst_case_fits),
		cmocka_unit_test(test_protocol_table),
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_return_path),
		cmocka_unit_test(test_hops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
