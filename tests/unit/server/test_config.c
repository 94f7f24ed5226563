/*
 * Configuration loader: every field of a full file, the defaults, and each
 * kind of error with its exact "FILE:LINE: message".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/limits.h"
#include "lib/mem.h"
#include "server/config.h"

#define NAME "test.conf"
#define BASE "/etc/postern"

/* Two lines every error case can start from: they are valid together. */
#define DATA_DIR "data_dir = \"/var/lib/postern\";\n"
#define SMTP_LISTENER                                                          \
	"listeners = ( { service = \"smtp\"; port = 25; tls = \"none\"; } "    \
	");\n"
#define TLS_OK "tls = { cert = \"cert.pem\"; key = \"key.pem\"; };\n"

static struct config *parse(const char *text, struct config_errors *errors)
{
	return config_parse_string(text, NAME, BASE, errors);
}

static void print_errors(const struct config_errors *errors)
{
	for (size_t i = 0; i < errors->count; i++)
		print_message("  got: %s\n", errors->msgs[i]);
}

/* ---- a full configuration, every field checked ---- */

static const char full_config[] =
	"# postern test configuration\n"			       /* 1 */
	"hostname = \"mail.example.org\";\n"			       /* 2 */
	"data_dir = \"state\";\n"				       /* 3 */
	"user = \"postern\";\n"					       /* 4 */
	"workers = 4;\n"					       /* 5 */
	"log = {\n"						       /* 6 */
	"  level = \"debug\";\n"				       /* 7 */
	"  file = \"log/postern.log\";\n"			       /* 8 */
	"};\n"							       /* 9 */
	"tls = {\n"						       /* 10 */
	"  cert = \"/etc/ssl/mail.pem\";\n"			       /* 11 */
	"  key = \"tls//mail.key\";\n"				       /* 12 */
	"  min_version = \"TLSv1.3\";\n"			       /* 13 */
	"  sni = (\n"						       /* 14 */
	"    { name = \"imap.example.org\";\n"			       /* 15 */
	"      cert = \"imap.pem\"; key = \"imap.key\"; },\n"	       /* 16 */
	"    { name = \"*.example.net\";\n"			       /* 17 */
	"      cert = \"/net.pem\"; key = \"./net.key\"; }\n"	       /* 18 */
	"  );\n"						       /* 19 */
	"};\n"							       /* 20 */
	"limits = {\n"						       /* 21 */
	"  max_connections = 5000;\n"				       /* 22 */
	"  max_connections_per_ip = 7;\n"			       /* 23 */
	"  idle_timeout = 600;\n"				       /* 24 */
	"  shutdown_timeout = 0;\n"				       /* 25 */
	"};\n"							       /* 26 */
	"listeners = (\n"					       /* 27 */
	"  { service = \"smtp\"; port = 25; tls = \"starttls\"; },\n"  /* 28 */
	"  { service = \"submission\"; address = \"::1\";\n"	       /* 29 */
	"    port = 587; tls = \"starttls\"; },\n"		       /* 30 */
	"  { service = \"submission\"; address = \"127.0.0.1\";\n"     /* 31 */
	"    port = 465; tls = \"implicit\"; },\n"		       /* 32 */
	"  { service = \"imap\"; port = 993; tls = \"implicit\"; },\n" /* 33 */
	"  { service = \"pop3\"; address = \"::\"; port = 995;\n"      /* 34 */
	"    tls = \"implicit\"; }\n"				       /* 35 */
	");\n";							       /* 36 */

struct listener_want {
	const char *address;
	int port;
	enum config_service service;
	enum config_tls_mode tls;
	int line;
};

static void test_full(void **state)
{
	static const struct listener_want want[] = {
		{"0.0.0.0", 25, SERVICE_SMTP, CONFIG_TLS_STARTTLS, 28},
		{"::1", 587, SERVICE_SUBMISSION, CONFIG_TLS_STARTTLS, 29},
		{"127.0.0.1", 465, SERVICE_SUBMISSION, CONFIG_TLS_IMPLICIT, 31},
		{"0.0.0.0", 993, SERVICE_IMAP, CONFIG_TLS_IMPLICIT, 33},
		{"::", 995, SERVICE_POP3, CONFIG_TLS_IMPLICIT, 34},
	};
	struct config_errors errors = {0};
	struct config *cfg = parse(full_config, &errors);

	print_errors(&errors);
	assert_non_null(cfg);
	assert_int_equal(errors.count, 0);
	assert_string_equal(cfg->path, NAME);
	assert_string_equal(cfg->hostname, "mail.example.org");
	assert_string_equal(cfg->data_dir, "/etc/postern/state");
	assert_string_equal(cfg->user, "postern");
	assert_int_equal(cfg->workers, 4);
	assert_int_equal(cfg->log_level, LOG_LEVEL_DEBUG);
	assert_string_equal(cfg->log_file, "/etc/postern/log/postern.log");

	assert_string_equal(cfg->tls.cert, "/etc/ssl/mail.pem");
	assert_string_equal(cfg->tls.key, "/etc/postern/tls/mail.key");
	assert_int_equal(cfg->tls.min_version, 13);
	assert_int_equal(cfg->tls.line, 10);
	assert_int_equal(cfg->tls.sni_count, 2);
	assert_string_equal(cfg->tls.sni[0].name, "imap.example.org");
	assert_string_equal(cfg->tls.sni[0].cert, "/etc/postern/imap.pem");
	assert_string_equal(cfg->tls.sni[0].key, "/etc/postern/imap.key");
	assert_int_equal(cfg->tls.sni[0].line, 15);
	assert_string_equal(cfg->tls.sni[1].name, "*.example.net");
	assert_string_equal(cfg->tls.sni[1].cert, "/net.pem");
	assert_string_equal(cfg->tls.sni[1].key, "/etc/postern/net.key");
	assert_int_equal(cfg->tls.sni[1].line, 17);

	assert_int_equal(cfg->limits.max_connections, 5000);
	assert_int_equal(cfg->limits.max_connections_per_ip, 7);
	assert_int_equal(cfg->limits.idle_timeout, 600);
	assert_int_equal(cfg->limits.shutdown_timeout, 0);

	assert_int_equal(cfg->listener_count, 5);
	for (size_t i = 0; i < 5; i++) {
		const struct config_listener *l = &cfg->listeners[i];

		assert_string_equal(l->address, want[i].address);
		assert_int_equal(l->port, want[i].port);
		assert_int_equal(l->service, want[i].service);
		assert_int_equal(l->tls, want[i].tls);
		assert_int_equal(l->line, want[i].line);
	}
	config_free(&cfg);
	assert_null(cfg);
	config_errors_fini(&errors);
}

/* ---- defaults ---- */

static void test_defaults(void **state)
{
	struct config_errors errors = {0};
	struct config *cfg = parse(DATA_DIR SMTP_LISTENER, &errors);
	char host[256] = "";
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	print_errors(&errors);
	assert_non_null(cfg);
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	assert_string_equal(cfg->hostname, host);
	assert_string_equal(cfg->data_dir, "/var/lib/postern");
	assert_null(cfg->user);
	assert_int_equal(cfg->workers, cpus < 1 ? 1 : cpus > 256 ? 256 : cpus);
	assert_true(cfg->workers >= 1);
	assert_int_equal(cfg->log_level, LOG_LEVEL_INFO);
	assert_null(cfg->log_file);
	assert_null(cfg->tls.cert);
	assert_null(cfg->tls.key);
	assert_int_equal(cfg->tls.min_version, 12);
	assert_null(cfg->tls.sni);
	assert_int_equal(cfg->tls.sni_count, 0);
	assert_int_equal(cfg->tls.line, 0);
	assert_int_equal(cfg->limits.max_connections, LIMIT_MAX_CONNECTIONS);
	assert_int_equal(cfg->limits.max_connections_per_ip,
			 LIMIT_MAX_CONNECTIONS_PER_IP);
	assert_int_equal(cfg->limits.idle_timeout, LIMIT_IDLE_TIMEOUT);
	assert_int_equal(cfg->limits.shutdown_timeout, LIMIT_SHUTDOWN_TIMEOUT);
	assert_int_equal(cfg->listener_count, 1);
	assert_string_equal(cfg->listeners[0].address, "0.0.0.0");
	assert_int_equal(cfg->listeners[0].port, 25);
	assert_int_equal(cfg->listeners[0].service, SERVICE_SMTP);
	assert_int_equal(cfg->listeners[0].tls, CONFIG_TLS_NONE);
	assert_int_equal(cfg->listeners[0].line, 2);
	assert_int_equal(cfg->smtp.max_message_size, LIMIT_SMTP_MESSAGE_SIZE);
	assert_int_equal(cfg->smtp.max_recipients, LIMIT_SMTP_RECIPIENTS);
	assert_false(cfg->smtp.vrfy || cfg->smtp.expn || cfg->smtp.mx_auth);
	assert_int_equal(cfg->smtp.relay_count, 0);
	assert_int_equal(cfg->queue.lifetime, LIMIT_QUEUE_LIFETIME);
	assert_int_equal(cfg->queue.mx_port, 25);
	assert_int_equal(cfg->queue.retry_count, 0);
	assert_int_equal(cfg->queue.max_connections, LIMIT_QUEUE_CONNECTIONS);
	assert_int_equal(cfg->queue.max_per_destination,
			 LIMIT_QUEUE_PER_DESTINATION);
	assert_int_equal(cfg->relay.auto_count, 0);
	assert_int_equal(cfg->queue.tls_policy_count, 0);
	assert_null(cfg->queue.tls_policy);
	assert_null(cfg->queue.bind_address);
	assert_null(cfg->queue.bind_address6);
	assert_null(cfg->dns.forward);
	assert_null(cfg->relay.host);
	config_free(&cfg);
	config_errors_fini(&errors);
}

/* The outbound groups and smtp extras, as an operator writes them. */
static void test_outbound_values(void **state)
{
	struct config_errors errors = {0};
	struct config *cfg =
		parse(DATA_DIR SMTP_LISTENER
		      "smtp = { relay_networks = [\"192.0.2.0/24\", \"::1\"]; "
		      "etrn_domains = [\"a.example\"]; mx_auth = true; "
		      "etrn_networks = [\"198.51.100.7\"]; };\n"
		      "queue = { retry = [60, 120]; mx_port = 2525; "
		      "lifetime = \"2h\"; "
		      "max_connections = 7; max_per_destination = 3;\n"
		      "  bind_address = \"192.0.2.25\"; "
		      "bind_address6 = \"2001:db8::25\";\n"
		      "  tls_policy = ( { domain = \"Example.ORG\"; "
		      "tls = \"encrypt\"; },\n"
		      "    { domain = \"*\"; tls = \"none\"; } ); };\n"
		      "dns = { forward = \"127.0.0.1@5353\"; };\n"
		      "relay = { host = \"smtp.example\"; port = \"auto\"; "
		      "auto_ports = [\"2587/starttls\", \"2465/tls\", "
		      "\"25/may\"]; };\n",
		      &errors);

	print_errors(&errors);
	assert_non_null(cfg);
	assert_int_equal(cfg->smtp.relay_count, 2);
	assert_true(cidr_match(&cfg->smtp.relay_networks[0], "192.0.2.9"));
	assert_true(cidr_match(&cfg->smtp.relay_networks[1], "::1"));
	assert_string_equal(cfg->smtp.etrn_domains[0], "a.example");
	assert_null(cfg->smtp.etrn_domains[1]);
	assert_int_equal(cfg->smtp.etrn_net_count, 1);
	assert_true(cidr_match(&cfg->smtp.etrn_networks[0], "198.51.100.7"));
	assert_false(cidr_match(&cfg->smtp.etrn_networks[0], "198.51.100.8"));
	assert_true(cfg->smtp.mx_auth);
	assert_int_equal(cfg->queue.lifetime, 2 * 3600);
	assert_int_equal(cfg->queue.retry_count, 2);
	assert_int_equal(cfg->queue.retry[1], 120);
	assert_int_equal(cfg->queue.mx_port, 2525);
	assert_string_equal(cfg->dns.forward, "127.0.0.1@5353");
	assert_string_equal(cfg->relay.host, "smtp.example");
	assert_int_equal(cfg->relay.port, 0); /* auto */
	assert_int_equal(cfg->queue.max_connections, 7);
	assert_int_equal(cfg->queue.max_per_destination, 3);
	assert_int_equal(cfg->relay.auto_count, 3);
	assert_int_equal(cfg->relay.auto_ports[0].port, 2587);
	assert_int_equal(cfg->relay.auto_ports[0].tls,
			 CONFIG_RELAY_TLS_STARTTLS);
	assert_int_equal(cfg->relay.auto_ports[1].tls,
			 CONFIG_RELAY_TLS_IMPLICIT);
	assert_int_equal(cfg->relay.auto_ports[2].port, 25);
	assert_int_equal(cfg->relay.auto_ports[2].tls, CONFIG_RELAY_TLS_MAY);
	assert_int_equal(cfg->queue.tls_policy_count, 2);
	assert_string_equal(cfg->queue.tls_policy[0].domain, "Example.ORG");
	assert_int_equal(cfg->queue.tls_policy[0].tls, CONFIG_OUT_TLS_ENCRYPT);
	assert_int_equal(cfg->queue.tls_policy[0].line, 6);
	assert_string_equal(cfg->queue.tls_policy[1].domain, "*");
	assert_int_equal(cfg->queue.tls_policy[1].tls, CONFIG_OUT_TLS_NONE);
	assert_int_equal(cfg->queue.tls_policy[1].line, 7);
	assert_string_equal(cfg->queue.bind_address, "192.0.2.25");
	assert_string_equal(cfg->queue.bind_address6, "2001:db8::25");
	config_free(&cfg);
	config_errors_fini(&errors);
}

/* queue.lifetime: seconds from 60, or with a unit from one second. */
static void test_lifetime(void **state)
{
	static const struct {
		const char *value;
		int seconds;
	} rows[] = {
		{"60", 60},	      {"2592000", 30 * 86400},
		{"\"1s\"", 1},	      {"\"3s\"", 3},
		{"\"90s\"", 90},      {"\"30m\"", 1800},
		{"\"12h\"", 43200},   {"\"5d\"", 432000},
		{"\"30d\"", 2592000},
	};
	static const char *const bad[] = {
		"59",
		"0",
		"2592001",
		"\"0s\"",
		"\"31d\"",
		"\"10\"",
		"\"s\"",
		"\"5 s\"",
		"\"5sec\"",
		"\"-5s\"",
		"\"99999999999s\"",
		"\"5w\"",
		"5.5",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct config_errors errors = {0};
		char *text = xasprintf(DATA_DIR SMTP_LISTENER
				       "queue = { lifetime = %s; };\n",
				       rows[i].value);
		struct config *cfg = parse(text, &errors);

		print_errors(&errors);
		if (cfg == NULL)
			fail_msg("%s refused", rows[i].value);
		assert_int_equal(cfg->queue.lifetime, rows[i].seconds);
		config_free(&cfg);
		config_errors_fini(&errors);
		free(text);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct config_errors errors = {0};
		char *text = xasprintf(DATA_DIR SMTP_LISTENER
				       "queue = { lifetime = %s; };\n",
				       bad[i]);
		struct config *cfg = parse(text, &errors);

		if (cfg != NULL)
			fail_msg("%s accepted", bad[i]);
		assert_int_equal(errors.count, 1);
		assert_non_null(strstr(errors.msgs[0],
				       "test.conf:3: queue.lifetime: must be"));
		config_errors_fini(&errors);
		free(text);
	}
}

/* Explicit values that equal a default, and the edges of each range. */
static void test_valid_edges(void **state)
{
	static const char *const texts[] = {
		DATA_DIR SMTP_LISTENER "log = { file = \"\"; };\n",
		DATA_DIR SMTP_LISTENER "workers = 256;\n",
		DATA_DIR SMTP_LISTENER "workers = 0;\n",
		DATA_DIR SMTP_LISTENER "limits = { max_connections = 1; "
				       "idle_timeout = 86400; "
				       "shutdown_timeout = 3600; };\n",
		DATA_DIR SMTP_LISTENER "limits = { max_connections = 1000000; "
				       "max_connections_per_ip = 1; "
				       "idle_timeout = 10; };\n",
		DATA_DIR "listeners = ( { service = \"smtp\"; port = 65535; "
			 "tls = \"none\"; }, { service = \"smtp\"; port = 1; "
			 "tls = \"none\"; } );\n",
		/* Same port, different addresses: both can bind. */
		DATA_DIR "listeners = ( { service = \"smtp\"; port = 25; "
			 "tls = \"none\"; address = \"127.0.0.1\"; }, "
			 "{ service = \"smtp\"; port = 25; tls = \"none\"; "
			 "address = \"127.0.0.2\"; } );\n",
		DATA_DIR SMTP_LISTENER "tls = { cert = \"c\"; key = \"k\"; "
				       "sni = (); };\n",
		DATA_DIR SMTP_LISTENER "hostname = \"localhost\";\n",
		DATA_DIR SMTP_LISTENER "user = \"mail\"; workers = 1L;\n",
		DATA_DIR SMTP_LISTENER
		"queue = { bind_address = \"127.0.0.2\"; "
		"bind_address6 = \"::1\"; };\n",
		DATA_DIR SMTP_LISTENER "queue = { bind_address6 = "
				       "\"2001:DB8:0:0:0:0:0:1\"; };\n",
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct config_errors errors = {0};
		struct config *cfg = parse(texts[i], &errors);

		if (cfg == NULL) {
			print_errors(&errors);
			fail_msg("row %zu refused", i);
		}
		config_free(&cfg);
		config_errors_fini(&errors);
	}
}

/* ---- errors: each row a text and the exact messages, in order ---- */

struct error_case {
	const char *what;
	const char *text;
	const char *want[10]; /* NULL-terminated */
};

static const struct error_case error_cases[] = {
	{"smtp group: unknown key, wrong type, bad range",
	 DATA_DIR SMTP_LISTENER
	 "smtp = { vrfy = 1; max_recipients = 0; "
	 "relay_networks = [\"10.0.0.0/33\"]; etrn_networks = [\"x\"]; "
	 "x = 1; };\n",
	 {"test.conf:3: smtp: unknown key 'x'",
	  "test.conf:3: smtp.max_recipients: must be 1..100000 (got 0)",
	  "test.conf:3: smtp.vrfy: must be true or false (got an integer)",
	  "test.conf:3: smtp.relay_networks: \"10.0.0.0/33\" is not an "
	  "address or CIDR range",
	  "test.conf:3: smtp.etrn_networks: \"x\" is not an address or CIDR "
	  "range"}},
	{"queue, dns and relay groups",
	 DATA_DIR SMTP_LISTENER
	 "queue = { retry = [0]; per_destination = 4; };\n"
	 "dns = { forward = \"\"; };\n"
	 "relay = { port = \"soon\"; user = \"u\"; };\n",
	 {"test.conf:3: queue: unknown key 'per_destination'",
	  "test.conf:3: queue.retry: element 0 must be 1..86400 seconds",
	  "test.conf:4: dns.forward: must not be empty",
	  "test.conf:5: relay.port: must be \"auto\" or 1..65535 (got "
	  "\"soon\")",
	  "test.conf:5: relay.user: needs relay.password_file"}},
	{"relay.auto_ports and queue connection limits",
	 DATA_DIR SMTP_LISTENER
	 "queue = { max_connections = 0; max_per_destination = 0; };\n"
	 "relay = { auto_ports = [\"587/starttls\", \"465/ssl\"]; };\n",
	 {"test.conf:3: queue.max_connections: must be 1..10000 (got 0)",
	  "test.conf:3: queue.max_per_destination: must be 1..10000 (got 0)",
	  "test.conf:4: relay.auto_ports: \"465/ssl\" is not PORT/MODE "
	  "(MODE: may, starttls or tls)"}},
	{"queue.tls_policy entries",
	 DATA_DIR SMTP_LISTENER
	 "queue = { tls_policy = (\n"
	 "  { domain = \"a.example\"; tls = \"encrypt\"; },\n"
	 "  { domain = \"A.Example\"; tls = \"may\"; },\n"
	 "  { domain = \"bad domain\"; tls = \"dane\"; },\n"
	 "  { tls = \"may\"; port = 25; },\n"
	 "  { domain = \"b.example\"; } ); };\n",
	 {"test.conf:5: queue.tls_policy.[1].domain: \"A.Example\" is "
	  "already given at line 4",
	  "test.conf:6: queue.tls_policy.[2].domain: must be a domain name "
	  "or \"*\" (got \"bad domain\")",
	  "test.conf:6: queue.tls_policy.[2].tls: must be \"none\", \"may\" "
	  "or \"encrypt\" (got \"dane\")",
	  "test.conf:7: queue.tls_policy.[3]: unknown key 'port'",
	  "test.conf:7: queue.tls_policy.[3].domain: required setting is "
	  "missing",
	  "test.conf:8: queue.tls_policy.[4].tls: required setting is "
	  "missing"}},
	{"queue.bind_address(6): each of its own family",
	 DATA_DIR SMTP_LISTENER
	 "queue = { bind_address = \"::1\"; bind_address6 = \"127.0.0.1\"; "
	 "};\n",
	 {"test.conf:3: queue.bind_address: must be a numeric IPv4 address "
	  "(got \"::1\")",
	  "test.conf:3: queue.bind_address6: must be a numeric IPv6 address "
	  "(got \"127.0.0.1\")"}},
	{"queue.bind_address(6): numeric addresses only",
	 DATA_DIR SMTP_LISTENER "queue = {\n"
				"  bind_address = \"mx.example\";\n"
				"  bind_address6 = \"fe80::1%lo\"; };\n",
	 {"test.conf:4: queue.bind_address: must be a numeric IPv4 address "
	  "(got \"mx.example\")",
	  "test.conf:5: queue.bind_address6: must be a numeric IPv6 address "
	  "(got \"fe80::1%lo\")"}},
	{"queue.bind_address(6): malformed",
	 DATA_DIR SMTP_LISTENER "queue = { bind_address = \"127.0.0.256\"; "
				"bind_address6 = \"[::1]\"; };\n",
	 {"test.conf:3: queue.bind_address: must be a numeric IPv4 address "
	  "(got \"127.0.0.256\")",
	  "test.conf:3: queue.bind_address6: must be a numeric IPv6 address "
	  "(got \"[::1]\")"}},
	{"queue.bind_address(6): empty or not a string",
	 DATA_DIR SMTP_LISTENER
	 "queue = { bind_address = \"\"; bind_address6 = 6; };\n",
	 {"test.conf:3: queue.bind_address: must not be empty",
	  "test.conf:3: queue.bind_address6: must be a string (got an "
	  "integer)"}},
	{"queue.tls_policy not a list of groups",
	 DATA_DIR SMTP_LISTENER "queue = { tls_policy = \"encrypt\"; };\n",
	 {"test.conf:3: queue.tls_policy: must be a list of groups ( { ... "
	  "}, ... ) (got a string)"}},
	{"queue.tls_policy element not a group",
	 DATA_DIR SMTP_LISTENER
	 "queue = { tls_policy = ( { domain = \"a.example\"; "
	 "tls = \"may\"; }, 5 ); };\n",
	 {"test.conf:3: queue.tls_policy.[1]: must be a group { ... } (got "
	  "an integer)"}},
	{"syntax error",
	 DATA_DIR "listeners = ( { service = ; } );\n",
	 {"test.conf:2: syntax error"}},
	{"duplicate key",
	 DATA_DIR DATA_DIR SMTP_LISTENER,
	 {"test.conf:2: duplicate setting name"}},
	{"missing include",
	 DATA_DIR SMTP_LISTENER "@include \"no-such-file.conf\"\n",
	 {"test.conf:3: cannot open include file"}},
	{"unknown top-level key",
	 DATA_DIR SMTP_LISTENER "foo = 1;\n",
	 {"test.conf:3: unknown key 'foo'"}},
	{"unknown top-level key, near a known one",
	 DATA_DIR SMTP_LISTENER "hostnme = \"mx.example.org\";\n",
	 {"test.conf:3: unknown key 'hostnme' (did you mean 'hostname'?)"}},
	{"unknown key in group",
	 DATA_DIR SMTP_LISTENER "log = {\n"
				"  level = \"info\";\n"
				"  colour = true;\n"
				"};\n",
	 {"test.conf:5: log: unknown key 'colour'"}},
	{"unknown key in listener",
	 DATA_DIR "listeners = (\n"
		  "  { service = \"smtp\"; port = 25; tls = \"none\"; },\n"
		  "  { service = \"smtp\"; port = 26; tls = \"none\";\n"
		  "    prot = 27; }\n"
		  ");\n",
	 {"test.conf:5: listeners.[1]: unknown key 'prot' "
	  "(did you mean 'port'?)"}},
	{"unknown key in sni element",
	 DATA_DIR SMTP_LISTENER
	 "tls = { cert = \"c\"; key = \"k\";\n"
	 "  sni = ( { name = \"a.example\"; cert = \"c\";\n"
	 "    key = \"k\"; chain = \"x\"; } ); };\n",
	 {"test.conf:5: tls.sni.[0]: unknown key 'chain'"}},
	{"wrong type: string",
	 DATA_DIR SMTP_LISTENER "hostname = 42;\n",
	 {"test.conf:3: hostname: must be a string (got an integer)"}},
	{"wrong type: integer",
	 DATA_DIR SMTP_LISTENER "workers = \"4\";\n",
	 {"test.conf:3: workers: must be an integer (got a string)"}},
	{"wrong type: float for integer",
	 DATA_DIR SMTP_LISTENER "limits = { idle_timeout = 1.5; };\n",
	 {"test.conf:3: limits.idle_timeout: must be an integer "
	  "(got a float)"}},
	{"wrong type: group",
	 DATA_DIR SMTP_LISTENER "log = \"debug\";\n",
	 {"test.conf:3: log: must be a group { ... } (got a string)"}},
	{"wrong type: list",
	 DATA_DIR "listeners = { service = \"smtp\"; };\n",
	 {"test.conf:2: listeners: must be a list of groups ( { ... }, ... ) "
	  "(got a group)"}},
	{"wrong type: list element",
	 DATA_DIR "listeners = ( \"smtp\" );\n",
	 {"test.conf:2: listeners.[0]: must be a group { ... } "
	  "(got a string)"}},
	{"wrong type: boolean for path",
	 DATA_DIR SMTP_LISTENER "tls = { cert = true; key = \"k\"; };\n",
	 {"test.conf:3: tls.cert: must be a string (got a boolean)"}},
	{"bad enum value: log level",
	 DATA_DIR SMTP_LISTENER "log = { level = \"verbose\"; };\n",
	 {"test.conf:3: log.level: must be \"debug\", \"info\", \"warn\" or "
	  "\"error\" (got \"verbose\")"}},
	{"bad enum value: service",
	 DATA_DIR "listeners = ( { service = \"smtps\"; port = 465;\n"
		  "  tls = \"none\"; } );\n",
	 {"test.conf:2: listeners.[0].service: must be \"smtp\", "
	  "\"submission\", \"imap\" or \"pop3\" (got \"smtps\")"}},
	{"a value echoed back stays on one line",
	 DATA_DIR "listeners = ( { service = \"smtp\n\tx\\x01\"; port = 25;\n"
		  "  tls = \"none\"; } );\n",
	 {"test.conf:2: listeners.[0].service: must be \"smtp\", "
	  "\"submission\", \"imap\" or \"pop3\" (got \"smtp\\n\\tx\\x01\")"}},
	{"a raw line end inside a string",
	 DATA_DIR SMTP_LISTENER "log = { level = \"de\nbug\"; };\n",
	 {"test.conf:3: log.level: must be \"debug\", \"info\", \"warn\" or "
	  "\"error\" (got \"de\\nbug\")"}},
	{"bad enum value: listener tls",
	 DATA_DIR "listeners = ( { service = \"smtp\"; port = 25;\n"
		  "  tls = \"ssl\"; } );\n",
	 {"test.conf:3: listeners.[0].tls: must be \"none\", \"starttls\" "
	  "or \"implicit\" (got \"ssl\")"}},
	{"bad enum value: min_version",
	 DATA_DIR SMTP_LISTENER "tls = { min_version = \"TLSv1.1\"; };\n",
	 {"test.conf:3: tls.min_version: must be \"TLSv1.2\" or \"TLSv1.3\" "
	  "(got \"TLSv1.1\")"}},
	{"out-of-range port",
	 DATA_DIR "listeners = (\n"
		  "  { service = \"smtp\"; port = 25; tls = \"none\"; },\n"
		  "  { service = \"smtp\"; port = 2525; tls = \"none\"; },\n"
		  "  { service = \"smtp\"; port = 70000; tls = \"none\"; }\n"
		  ");\n",
	 {"test.conf:5: listeners.[2].port: must be 1..65535 (got 70000)"}},
	{"port zero",
	 DATA_DIR "listeners = ( { service = \"smtp\"; port = 0;\n"
		  "  tls = \"none\"; } );\n",
	 {"test.conf:2: listeners.[0].port: must be 1..65535 (got 0)"}},
	{"workers out of range",
	 DATA_DIR SMTP_LISTENER "workers = 257;\n",
	 {"test.conf:3: workers: must be 0..256 (got 257)"}},
	{"limits out of range",
	 DATA_DIR SMTP_LISTENER "limits = {\n"
				"  max_connections = 0;\n"
				"  max_connections_per_ip = 0;\n"
				"  idle_timeout = 9;\n"
				"  shutdown_timeout = 3601;\n"
				"};\n",
	 {"test.conf:4: limits.max_connections: must be 1..1000000 (got 0)",
	  "test.conf:5: limits.max_connections_per_ip: must be 1..1000000 "
	  "(got 0)",
	  "test.conf:6: limits.idle_timeout: must be 10..86400 (got 9)",
	  "test.conf:7: limits.shutdown_timeout: must be 0..3600 (got 3601)"}},
	{"64-bit integer out of range",
	 DATA_DIR SMTP_LISTENER
	 "limits = { max_connections = 5000000000L; };\n",
	 {"test.conf:3: limits.max_connections: must be 1..1000000 "
	  "(got 5000000000)"}},
	{"bad address: name",
	 DATA_DIR "listeners = ( { service = \"smtp\"; port = 25;\n"
		  "  tls = \"none\"; address = \"localhost\"; } );\n",
	 {"test.conf:3: listeners.[0].address: must be a numeric IPv4 or "
	  "IPv6 address (got \"localhost\")"}},
	{"bad address: brackets",
	 DATA_DIR "listeners = ( { service = \"smtp\"; port = 25;\n"
		  "  tls = \"none\"; address = \"[::1]\"; } );\n",
	 {"test.conf:3: listeners.[0].address: must be a numeric IPv4 or "
	  "IPv6 address (got \"[::1]\")"}},
	{"bad address: IPv4 out of range",
	 DATA_DIR "listeners = ( { service = \"smtp\"; port = 25;\n"
		  "  tls = \"none\"; address = \"10.0.0.256\"; } );\n",
	 {"test.conf:3: listeners.[0].address: must be a numeric IPv4 or "
	  "IPv6 address (got \"10.0.0.256\")"}},
	{"starttls without cert",
	 DATA_DIR "listeners = ( { service = \"smtp\"; port = 25;\n"
		  "  tls = \"starttls\"; } );\n",
	 {"test.conf:3: listeners.[0].tls: \"starttls\" needs a certificate: "
	  "set tls.cert and tls.key"}},
	{"implicit without cert",
	 DATA_DIR "tls = { min_version = \"TLSv1.3\"; };\n"
		  "listeners = ( { service = \"imap\"; port = 993;\n"
		  "  tls = \"implicit\"; } );\n",
	 {"test.conf:4: listeners.[0].tls: \"implicit\" needs a certificate: "
	  "set tls.cert and tls.key"}},
	{"submission with tls none",
	 DATA_DIR TLS_OK "listeners = ( { service = \"submission\";\n"
			 "  port = 587; tls = \"none\"; } );\n",
	 {"test.conf:4: listeners.[0].tls: \"none\" is not allowed for "
	  "submission: credentials are only accepted over TLS (use "
	  "\"starttls\" or \"implicit\")"}},
	{"imap and pop3 with tls none",
	 DATA_DIR TLS_OK
	 "listeners = (\n"
	 "  { service = \"imap\"; port = 143; tls = \"none\"; },\n"
	 "  { service = \"pop3\"; port = 110; tls = \"none\"; }\n"
	 ");\n",
	 {"test.conf:4: listeners.[0].tls: \"none\" is not allowed for imap: "
	  "credentials are only accepted over TLS (use \"starttls\" or "
	  "\"implicit\")",
	  "test.conf:5: listeners.[1].tls: \"none\" is not allowed for pop3: "
	  "credentials are only accepted over TLS (use \"starttls\" or "
	  "\"implicit\")"}},
	{"duplicate listener",
	 DATA_DIR TLS_OK
	 "listeners = (\n"
	 "  { service = \"smtp\"; port = 25; tls = \"none\"; },\n"
	 "  { service = \"submission\"; port = 587; tls = \"starttls\"; },\n"
	 "  { service = \"submission\"; address = \"0.0.0.0\"; port = 25;\n"
	 "    tls = \"implicit\"; }\n"
	 ");\n",
	 {"test.conf:6: listeners.[2]: address 0.0.0.0 port 25 is already "
	  "used by listeners.[0] at line 4"}},
	{"duplicate listener, two spellings of one IPv6 address",
	 DATA_DIR "listeners = (\n"
		  "  { service = \"smtp\"; address = \"::1\"; port = 25;\n"
		  "    tls = \"none\"; },\n"
		  "  { service = \"smtp\"; address = \"0:0::0:1\"; port = 25;\n"
		  "    tls = \"none\"; }\n"
		  ");\n",
	 {"test.conf:5: listeners.[1]: address 0:0::0:1 port 25 is already "
	  "used by listeners.[0] at line 3"}},
	{"missing listeners",
	 DATA_DIR,
	 {"test.conf:1: listeners: required setting is missing"}},
	{"empty listeners",
	 DATA_DIR "\nlisteners = ();\n",
	 {"test.conf:3: listeners: must hold 1..64 listeners (got 0)"}},
	{"missing data_dir",
	 "\n" SMTP_LISTENER,
	 {"test.conf:1: data_dir: required setting is missing"}},
	{"empty data_dir",
	 "data_dir = \"\";\n" SMTP_LISTENER,
	 {"test.conf:1: data_dir: must not be empty"}},
	{"empty user",
	 DATA_DIR SMTP_LISTENER "user = \"\";\n",
	 {"test.conf:3: user: must not be empty"}},
	{"listener without fields",
	 DATA_DIR "listeners = (\n"
		  "  { }\n"
		  ");\n",
	 {"test.conf:3: listeners.[0].service: required setting is missing",
	  "test.conf:3: listeners.[0].tls: required setting is missing",
	  "test.conf:3: listeners.[0].port: required setting is missing"}},
	{"bad hostname",
	 DATA_DIR SMTP_LISTENER "hostname = \"mail example.org\";\n",
	 {"test.conf:3: hostname: must be a host name: letters, digits, '-' "
	  "and '.' (got \"mail example.org\")"}},
	{"hostname with empty label",
	 DATA_DIR SMTP_LISTENER "hostname = \"mail..example.org\";\n",
	 {"test.conf:3: hostname: must be a host name: letters, digits, '-' "
	  "and '.' (got \"mail..example.org\")"}},
	{"cert without key",
	 DATA_DIR SMTP_LISTENER "tls = {\n"
				"  cert = \"c.pem\";\n"
				"};\n",
	 {"test.conf:4: tls: cert is set but key is missing: set both or "
	  "neither"}},
	{"key without cert, and a listener that needs them",
	 DATA_DIR "tls = { key = \"k.pem\"; };\n"
		  "listeners = ( { service = \"smtp\"; port = 25;\n"
		  "  tls = \"starttls\"; } );\n",
	 {"test.conf:2: tls: key is set but cert is missing: set both or "
	  "neither",
	  "test.conf:4: listeners.[0].tls: \"starttls\" needs a certificate: "
	  "set tls.cert and tls.key"}},
	{"unknown top-level key, near tls",
	 DATA_DIR SMTP_LISTENER TLS_OK "tls2 = 1;\n",
	 {"test.conf:4: unknown key 'tls2' (did you mean 'tls'?)"}},
	{"sni without default certificate, element incomplete",
	 DATA_DIR SMTP_LISTENER
	 "tls = {\n"
	 "  sni = (\n"
	 "    { name = \"a.example\"; cert = \"a.pem\"; }\n"
	 "  );\n"
	 "};\n",
	 {"test.conf:5: tls.sni.[0].key: required setting is missing",
	  "test.conf:4: tls.sni: needs tls.cert and tls.key as the default "
	  "certificate"}},
	{"sni bad and duplicate names",
	 DATA_DIR SMTP_LISTENER
	 "tls = { cert = \"c\"; key = \"k\"; sni = (\n"
	 "  { name = \"a.example\"; cert = \"a\"; key = \"a\"; },\n"
	 "  { name = \"A.Example\"; cert = \"b\"; key = \"b\"; },\n"
	 "  { name = \"a_b.example\"; cert = \"c\"; key = \"c\"; }\n"
	 "); };\n",
	 {"test.conf:5: tls.sni.[1].name: \"A.Example\" is already given at "
	  "line 4",
	  "test.conf:6: tls.sni.[2].name: must be a host name, \"*.\" may "
	  "lead (got \"a_b.example\")"}},
	{"several errors at once",
	 "hostname = 5;\n"
	 "workers = -1;\n"
	 "log = { level = \"loud\"; };\n"
	 "listeners = (\n"
	 "  { service = \"imap\"; port = 143; tls = \"none\"; bind = 1; },\n"
	 "  { service = \"smtp\"; port = 99999; tls = \"none\"; }\n"
	 ");\n"
	 "spool = \"/var/spool\";\n",
	 {"test.conf:8: unknown key 'spool'",
	  "test.conf:1: hostname: must be a string (got an integer)",
	  "test.conf:1: data_dir: required setting is missing",
	  "test.conf:2: workers: must be 0..256 (got -1)",
	  "test.conf:3: log.level: must be \"debug\", \"info\", \"warn\" or "
	  "\"error\" (got \"loud\")",
	  "test.conf:5: listeners.[0]: unknown key 'bind'",
	  "test.conf:5: listeners.[0].tls: \"none\" is not allowed for imap: "
	  "credentials are only accepted over TLS (use \"starttls\" or "
	  "\"implicit\")",
	  "test.conf:6: listeners.[1].port: must be 1..65535 (got 99999)"}},
};

static int errors_match(const struct config_errors *errors,
			const char *const *want, size_t nwant)
{
	if (errors->count != nwant)
		return 0;
	for (size_t i = 0; i < nwant; i++) {
		if (strcmp(errors->msgs[i], want[i]) != 0)
			return 0;
	}
	return 1;
}

static void test_errors(void **state)
{
	size_t n = sizeof(error_cases) / sizeof(error_cases[0]);
	int failed = 0;

	for (size_t i = 0; i < n; i++) {
		const struct error_case *c = &error_cases[i];
		const char *const *want = c->want;
		size_t nwant = 0;
		struct config_errors errors = {0};
		struct config *cfg = parse(c->text, &errors);

		while (want[nwant] != NULL)
			nwant++;
		if (cfg != NULL || !errors_match(&errors, want, nwant)) {
			print_message("FAIL: %s\n", c->what);
			for (size_t k = 0; k < nwant; k++)
				print_message("  want: %s\n", want[k]);
			print_errors(&errors);
			failed++;
		}
		config_free(&cfg);
		config_errors_fini(&errors);
	}
	assert_int_equal(failed, 0);
}

/* Errors are appended: the caller's earlier ones stay. */
static void test_errors_appended(void **state)
{
	struct config_errors errors = {0};
	struct config *cfg;

	cfg = parse(DATA_DIR, &errors);
	assert_null(cfg);
	cfg = parse(SMTP_LISTENER, &errors);
	assert_null(cfg);
	assert_int_equal(errors.count, 2);
	assert_string_equal(errors.msgs[0],
			    "test.conf:1: listeners: required setting is "
			    "missing");
	assert_string_equal(errors.msgs[1],
			    "test.conf:1: data_dir: required setting is "
			    "missing");
	config_errors_fini(&errors);
	assert_null(errors.msgs);
	assert_int_equal(errors.count, 0);
	config_errors_fini(&errors);
	config_free(&cfg);
}

static void test_too_many_listeners(void **state)
{
	char *text = xstrdup(DATA_DIR "listeners = (\n");
	char *next_text;
	struct config_errors errors = {0};
	struct config *cfg;

	for (int i = 0; i <= LIMIT_CONFIG_LISTENERS; i++) {
		char *next = xasprintf("%s%s{ service = \"smtp\"; port = %d; "
				       "tls = \"none\"; }\n",
				       text, i > 0 ? "," : "", 1000 + i);

		free(text);
		text = next;
	}
	next_text = xasprintf("%s);\n", text);
	free(text);
	text = next_text;
	cfg = parse(text, &errors);
	assert_null(cfg);
	assert_int_equal(errors.count, 1);
	assert_string_equal(errors.msgs[0],
			    "test.conf:2: listeners: must hold 1..64 "
			    "listeners (got 65)");
	config_errors_fini(&errors);
	free(text);
}

/* ---- path resolution ---- */

struct path_case {
	const char *base;
	const char *value;
	const char *want;
};

static void test_paths(void **state)
{
	static const struct path_case cases[] = {
		{"/etc/postern", "data", "/etc/postern/data"},
		{"/etc/postern", "./data/", "/etc/postern/data"},
		{"/etc/postern/", "data//mail/.", "/etc/postern/data/mail"},
		{"/etc/postern", "../var/lib", "/etc/postern/../var/lib"},
		{"/etc/postern", "/var/lib/postern", "/var/lib/postern"},
		{"/etc/postern", "//var/./lib//", "/var/lib"},
		{"/", "data", "/data"},
		{"/", ".", "/"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config_errors errors = {0};
		char *text = xasprintf("data_dir = \"%s\";\n" SMTP_LISTENER
				       "tls = { cert = \"%s\"; key = \"%s\"; "
				       "sni = ( { name = \"x.example\"; "
				       "cert = \"%s\"; key = \"%s\"; } ); };\n"
				       "log = { file = \"%s\"; };\n",
				       cases[i].value, cases[i].value,
				       cases[i].value, cases[i].value,
				       cases[i].value, cases[i].value);
		struct config *cfg =
			config_parse_string(text, NAME, cases[i].base, &errors);

		print_errors(&errors);
		assert_non_null(cfg);
		assert_string_equal(cfg->data_dir, cases[i].want);
		assert_string_equal(cfg->tls.cert, cases[i].want);
		assert_string_equal(cfg->tls.key, cases[i].want);
		assert_string_equal(cfg->tls.sni[0].cert, cases[i].want);
		assert_string_equal(cfg->tls.sni[0].key, cases[i].want);
		assert_string_equal(cfg->log_file, cases[i].want);
		config_free(&cfg);
		free(text);
	}
}

/* A relative (or no) base_dir is taken from the current folder. */
static void test_paths_relative_base(void **state)
{
	char *cwd = getcwd(NULL, 0);
	char *want =
		xasprintf("%s/conf/data", strcmp(cwd, "/") == 0 ? "" : cwd);
	char *want_null =
		xasprintf("%s/data", strcmp(cwd, "/") == 0 ? "" : cwd);
	struct config_errors errors = {0};
	struct config *cfg;

	cfg = config_parse_string("data_dir = \"data\";\n" SMTP_LISTENER, NAME,
				  "conf", &errors);
	assert_non_null(cfg);
	assert_string_equal(cfg->data_dir, want);
	config_free(&cfg);
	cfg = config_parse_string("data_dir = \"data\";\n" SMTP_LISTENER, NAME,
				  NULL, &errors);
	assert_non_null(cfg);
	assert_string_equal(cfg->data_dir, want_null);
	config_free(&cfg);
	assert_int_equal(errors.count, 0);
	free(want);
	free(want_null);
	free(cwd);
}

/* ---- config_load: files on disk ---- */

static char *write_file(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	return path;
}

static void test_load(void **state)
{
	char tmpl[] = "/tmp/postern-config-XXXXXX";
	char *dir = mkdtemp(tmpl);
	char *cwd = getcwd(NULL, 0);
	char *path, *sub, *want;
	struct config_errors errors = {0};
	struct config *cfg;

	assert_non_null(dir);
	path = write_file(dir, "postern.conf",
			  "data_dir = \"state\";\n@include \"listen.conf\"\n");
	sub = write_file(dir, "listen.conf", SMTP_LISTENER);

	/* Loaded by a relative name: paths still end up absolute. */
	assert_int_equal(chdir("/tmp"), 0);
	cfg = config_load(path + strlen("/tmp/"), &errors);
	assert_int_equal(chdir(cwd), 0);
	print_errors(&errors);
	assert_non_null(cfg);
	want = xasprintf("%s/state", dir);
	assert_string_equal(cfg->data_dir, want);
	assert_string_equal(cfg->path, path);
	assert_int_equal(cfg->listener_count, 1);
	assert_int_equal(cfg->listeners[0].line, 1);
	config_free(&cfg);
	free(want);

	/* An error in an included file names that file, absolute. */
	free(write_file(dir, "listen.conf", SMTP_LISTENER "foo = 1;\n"));
	cfg = config_load(path, &errors);
	assert_null(cfg);
	assert_int_equal(errors.count, 1);
	want = xasprintf("%s:2: unknown key 'foo'", sub);
	assert_string_equal(errors.msgs[0], want);
	config_errors_fini(&errors);
	free(want);

	free(write_file(dir, "listen.conf", "\nlisteners = (;\n"));
	cfg = config_load(path, &errors);
	assert_null(cfg);
	assert_int_equal(errors.count, 1);
	want = xasprintf("%s:2: syntax error", sub);
	assert_string_equal(errors.msgs[0], want);
	config_errors_fini(&errors);
	free(want);

	unlink(path);
	unlink(sub);
	assert_int_equal(rmdir(dir), 0);
	free(path);
	free(sub);
	free(cwd);
}

/* Files that cannot be a configuration; want follows the path. */
struct load_case {
	const char *what;
	const char *text; /* NULL: no file; "/": a folder */
	size_t len;	  /* bytes to write, zero-padded; 0: strlen(text) */
	const char *want;
};

static void write_case(const char *path, const struct load_case *c)
{
	size_t len = c->len != 0 ? c->len : strlen(c->text);
	char *buf = xcalloc(1, len + strlen(c->text) + 1);
	FILE *fp = fopen(path, "w");

	memcpy(buf, c->text, strlen(c->text));
	assert_non_null(fp);
	assert_int_equal(fwrite(buf, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	free(buf);
}

static void test_load_errors(void **state)
{
	static const struct load_case cases[] = {
		{"missing", NULL, 0,
		 ": cannot open: No such file or directory"},
		{"folder", "/", 0, ": not a regular file"},
		{"syntax", DATA_DIR "\nlisteners = (\n", 0, ":4: syntax error"},
		{"NUL byte", DATA_DIR, sizeof(DATA_DIR) + 8,
		 ": holds a NUL byte"},
		{"too large", "#", 1024 * 1024 + 1,
		 ": larger than 1048576 bytes"},
	};
	char tmpl[] = "/tmp/postern-config-XXXXXX";
	char *dir = mkdtemp(tmpl);

	assert_non_null(dir);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct load_case *c = &cases[i];
		char *path = xasprintf("%s/postern.conf", dir);
		struct config_errors errors = {0};
		struct config *cfg;
		char *want;

		if (c->text != NULL && strcmp(c->text, "/") == 0)
			assert_int_equal(mkdir(path, 0700), 0);
		else if (c->text != NULL)
			write_case(path, c);
		cfg = config_load(path, &errors);
		want = xasprintf("%s%s", path, c->want);
		if (cfg != NULL || errors.count != 1 ||
		    strcmp(errors.msgs[0], want) != 0) {
			print_errors(&errors);
			fail_msg("%s: want %s", c->what, want);
		}
		config_errors_fini(&errors);
		free(want);
		(void)remove(path);
		free(path);
	}
	assert_int_equal(rmdir(dir), 0);
}

static void test_names(void **state)
{
	assert_string_equal(config_service_name(SERVICE_SMTP), "smtp");
	assert_string_equal(config_service_name(SERVICE_SUBMISSION),
			    "submission");
	assert_string_equal(config_service_name(SERVICE_IMAP), "imap");
	assert_string_equal(config_service_name(SERVICE_POP3), "pop3");
	assert_string_equal(config_tls_mode_name(CONFIG_TLS_NONE), "none");
	assert_string_equal(config_tls_mode_name(CONFIG_TLS_STARTTLS),
			    "starttls");
	assert_string_equal(config_tls_mode_name(CONFIG_TLS_IMPLICIT),
			    "implicit");
}

static void test_free_null(void **state)
{
	struct config *cfg = NULL;
	struct config_errors errors = {0};

	config_free(&cfg);
	config_errors_fini(&errors);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_outbound_values),
		cmocka_unit_test(test_lifetime),
		cmocka_unit_test(test_valid_edges),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_errors_appended),
		cmocka_unit_test(test_too_many_listeners),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_paths_relative_base),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_free_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
