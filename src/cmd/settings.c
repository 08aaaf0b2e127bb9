/* Every hermod setting, declared once: section, name, type, default,
 * bounds, help. `hermod check-config FILE` validates a file against this
 * table and `hermod help config` prints it. */
#include "cmd/cmd.h"

#define KIB (1024LL)
#define MIB (1024LL * 1024)
#define GIB (1024LL * 1024 * 1024)

const struct config_setting hermod_settings[] = {
	/* [server] */
	{"server", "hostname", CONFIG_TYPE_STRING, "localhost", 0, 0,
		"the name this server gives itself (greetings, Received headers, certificates)"},
	{"server", "data_dir", CONFIG_TYPE_STRING, "./var", 0, 0,
		"where mailboxes, the directory, the queue and the certificate live"},
	{"server", "log_file", CONFIG_TYPE_STRING, "-", 0, 0, "log file, or - for stderr"},
	{"server", "log_level", CONFIG_TYPE_STRING, "info", 0, 0,
		"debug, info, warning or error"},
	{"server", "event_threads", CONFIG_TYPE_INT, "0", 0, 64,
		"event-loop threads owning the sockets (0: one per core)"},
	{"server", "worker_threads", CONFIG_TYPE_INT, "0", 0, 1024,
		"threads running command handlers (0: four per core)"},
	{"server", "max_connections", CONFIG_TYPE_INT, "10000", 1, 1000000,
		"connections across all listeners"},
	{"server", "max_connections_per_ip", CONFIG_TYPE_INT, "200", 0, 1000000,
		"connections from one client address (0: unlimited)"},
	{"server", "output_high_water", CONFIG_TYPE_SIZE, "1m", 64 * KIB, 1 * GIB,
		"output buffered per connection before a response's writer waits for the client"},
	{"server", "shutdown_grace", CONFIG_TYPE_TIME, "10s", 0, 3600,
		"how long commands in flight may run on at shutdown"},
	{"server", "tls_cert", CONFIG_TYPE_STRING, NULL, 0, 0,
		"PEM certificate chain (default: a self-signed one in data_dir/tls/)"},
	{"server", "tls_key", CONFIG_TYPE_STRING, NULL, 0, 0,
		"PEM private key for tls_cert"},
	{"server", "default_domain", CONFIG_TYPE_STRING, "example.test", 0, 0,
		"the domain created with the demo user on first start"},
	{"server", "create_demo_user", CONFIG_TYPE_BOOL, "yes", 0, 0,
		"create demo@<default_domain> on first start and print its password"},

	/* [auth] */
	{"auth", "allow_plaintext", CONFIG_TYPE_BOOL, "no", 0, 0,
		"allow passwords over connections without TLS (loopback is always allowed)"},
	{"auth", "max_failures_per_ip", CONFIG_TYPE_INT, "10", 1, 100000,
		"failed logins from one address within failure_window before it is throttled"},
	{"auth", "max_failures_per_user", CONFIG_TYPE_INT, "10", 1, 100000,
		"failed logins for one user within failure_window before it is throttled"},
	{"auth", "failure_window", CONFIG_TYPE_TIME, "15m", 1, 86400,
		"how long failed logins are remembered"},
	{"auth", "cache_size", CONFIG_TYPE_INT, "10000", 0, 10000000,
		"verified passwords remembered (keyed by an HMAC of the stored hash and the "
		"password) so that repeated logins skip yescrypt; 0: no cache"},
	{"auth", "cache_ttl", CONFIG_TYPE_TIME, "1h", 1, 86400,
		"how long a verified password is remembered (a changed password misses at once)"},
	{"auth", "password_hash_cost", CONFIG_TYPE_INT, "5", 1, 11,
		"yescrypt cost of new password hashes (each step doubles time and memory; "
		"5 takes about 80 ms)"},

	/* [store] */
	{"store", "durability", CONFIG_TYPE_STRING, "full", 0, 0,
		"full: fsync every commit (a delivery is on disk before it is acknowledged); "
		"normal: fsync at checkpoints only"},
	{"store", "max_value_size", CONFIG_TYPE_SIZE, "64m", 1024, 2 * GIB,
		"largest property value (a body, an attachment's data)"},
	{"store", "max_props_per_object", CONFIG_TYPE_INT, "4096", 16, 65536,
		"properties on one folder, message, attachment or recipient"},
	{"store", "max_recipients", CONFIG_TYPE_INT, "10000", 1, 1000000,
		"recipients of one message"},
	{"store", "max_attachments", CONFIG_TYPE_INT, "1000", 1, 100000,
		"attachments of one message (at each level of embedding)"},
	{"store", "max_embed_depth", CONFIG_TYPE_INT, "10", 1, 64,
		"messages embedded in messages embedded in ..."},
	{"store", "max_restriction_depth", CONFIG_TYPE_INT, "32", 2, 64,
		"nesting of a restriction (search filter)"},
	{"store", "max_mv_count", CONFIG_TYPE_INT, "65536", 16, 1000000,
		"values in one multi-valued property"},
	{"store", "blob_threshold", CONFIG_TYPE_SIZE, "64k", 1024, 64 * MIB,
		"values at least this large are kept in the blob store, not in the database"},
	{"store", "max_inline_get", CONFIG_TYPE_SIZE, "1m", 4096, 1 * GIB,
		"larger values are read with streams, not returned whole"},
	{"store", "read_connections", CONFIG_TYPE_INT, "4", 1, 256,
		"idle read connections kept per open mailbox"},
	{"store", "tombstone_days", CONFIG_TYPE_INT, "60", 1, 3650,
		"how long deletions are remembered for clients that synchronize"},

	/* [pop3] */
	{"pop3", "listen", CONFIG_TYPE_LIST, "127.0.0.1:1110", 0, 0,
		"POP3 listeners (STLS offered); empty: none"},
	{"pop3", "listen_tls", CONFIG_TYPE_LIST, "127.0.0.1:1995", 0, 0,
		"POP3S listeners (TLS from the first byte); empty: none"},
	{"pop3", "max_line", CONFIG_TYPE_SIZE, "1k", 255, 64 * KIB,
		"longest command line, CRLF included (RFC 2449: at least 255)"},
	{"pop3", "max_bad_commands", CONFIG_TYPE_INT, "10", 1, 10000,
		"invalid commands in a row before the connection is closed"},
	{"pop3", "max_auth_failures", CONFIG_TYPE_INT, "3", 1, 100,
		"failed logins in one session before the connection is closed"},
	{"pop3", "idle_timeout", CONFIG_TYPE_TIME, "10m", 600, 86400,
		"inactivity before a logged-in session is closed (RFC 1939: at least 10 minutes)"},
	{"pop3", "preauth_timeout", CONFIG_TYPE_TIME, "60s", 5, 3600,
		"inactivity before a session that has not logged in is closed"},
	{"pop3", "loopback_secure", CONFIG_TYPE_BOOL, "yes", 0, 0,
		"accept passwords without TLS from loopback addresses"},
	{"pop3", "expire", CONFIG_TYPE_STRING, "never", 0, 0,
		"EXPIRE policy (RFC 2449): never, or days a retrieved message is kept at least "
		"(0: retrieved messages are removed at QUIT)"},
	{"pop3", "login_delay", CONFIG_TYPE_TIME, "0", 0, 86400,
		"LOGIN-DELAY (RFC 2449): minimum time between two logins of a user (0: none)"},

	/* [http] */
	{"http", "listen", CONFIG_TYPE_LIST, "127.0.0.1:8080", 0, 0,
		"HTTP listeners (Autodiscover, EWS, ...); empty: none"},
	{"http", "listen_tls", CONFIG_TYPE_LIST, "127.0.0.1:8443", 0, 0,
		"HTTPS listeners (TLS from the first byte); empty: none"},
	{"http", "external_url", CONFIG_TYPE_STRING, NULL, 0, 0,
		"the URL clients reach this server at (https://mail.example.com), used in "
		"Autodiscover answers; unset: each request's scheme and Host header"},
	{"http", "max_header_size", CONFIG_TYPE_SIZE, "64k", 1024, 1 * MIB,
		"request line and headers of one request"},
	{"http", "max_headers", CONFIG_TYPE_INT, "100", 8, 10000,
		"header fields in one request"},
	{"http", "max_body_size", CONFIG_TYPE_SIZE, "32m", 1024, 1 * GIB,
		"request body, for routes that set no limit of their own"},
	{"http", "request_timeout", CONFIG_TYPE_TIME, "60s", 1, 3600,
		"time from the first byte of a request to its last"},
	{"http", "keepalive_timeout", CONFIG_TYPE_TIME, "120s", 1, 3600,
		"idle time between requests on one connection"},

	{NULL, NULL, 0, NULL, 0, 0, NULL},
};
