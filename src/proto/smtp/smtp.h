/* The SMTP front-end (RFC 5321) for the net runtime: the inbound MTA (port
 * 25: mail for our domains only) and message submission (RFC 6409, ports
 * 587 with STARTTLS and 465 with implicit TLS: authenticated users, mail
 * for anywhere). Extensions: PIPELINING, SIZE, 8BITMIME,
 * ENHANCEDSTATUSCODES, STARTTLS, SMTPUTF8, DSN, CHUNKING, and on
 * submission AUTH PLAIN, LOGIN (MS-XLOGIN) and NTLM (MS-OXSMTP).
 *
 * A listener's protocol_ctx is a struct smtp_config (which must outlive
 * the server). Accepted messages go to src/transport; the 250 after the
 * message is sent only when the transport says every recipient is durable
 * (stored or queued). See docs/smtp.md. */
#ifndef PROTO_SMTP_SMTP_H
#define PROTO_SMTP_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "directory/directory.h"
#include "directory/throttle.h"
#include "net/net.h"
#include "transport/transport.h"

enum smtp_mode {
	SMTP_MODE_MTA,        /* relay for nobody: our domains only, no AUTH */
	SMTP_MODE_SUBMISSION, /* AUTH required before MAIL */
};

struct smtp_config {
	enum smtp_mode mode;
	const char *hostname;      /* greeting, EHLO, Received */
	const char *default_domain; /* RCPT TO:<Postmaster> goes to postmaster@ it */
	struct transport *transport;
	struct directory *dir;
	struct directory_throttle *throttle; /* failed logins; may be NULL */

	uint64_t max_message_size; /* SIZE; octets after dot-unstuffing */
	unsigned max_recipients;   /* per message (RFC 5321 4.5.3.1.8: at least 100) */
	size_t max_line_length;    /* DATA lines, with CRLF (RFC 5321 4.5.3.1.6: 1000) */
	unsigned max_errors;       /* error replies before 421 and disconnect */
	unsigned max_auth_failures; /* failed AUTH per session before 421 */
	unsigned command_timeout_s; /* a command line must be complete within this */
	unsigned data_timeout_s;    /* DATA or a BDAT sequence must end within this */
	/* AUTH over a connection without TLS: refused (538 5.7.11, and not
	 * advertised) unless allow_plaintext_auth, or the peer is loopback
	 * and allow_plaintext_loopback. */
	bool allow_plaintext_auth;
	bool allow_plaintext_loopback;
	bool enable_ntlm; /* offer AUTH NTLM (users with an NT hash) */
};

/* Fills in the defaults (RFC values, docs/smtp.md). */
void smtp_config_default(struct smtp_config *cfg);

extern const struct net_protocol smtp_protocol;

#endif
