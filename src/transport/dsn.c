/* Delivery status notifications (RFC 3464, RFC 3462 multipart/report). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/hm_time.h"
#include "transport/relay.h"

/* The length of the header block (up to and including the empty line),
 * or len when there is no body. */
static size_t header_len(const unsigned char *d, size_t len)
{
	if (len >= 2 && d[0] == '\r' && d[1] == '\n')
		return 2;
	for (size_t i = 0; i + 3 < len; i++)
		if (d[i] == '\r' && d[i + 1] == '\n' && d[i + 2] == '\r' && d[i + 3] == '\n')
			return i + 4;
	return len;
}

void transport_dsn_write(struct buf *out, const char *hostname, const char *id,
	const char *sender, const char *envid, int64_t arrival, const struct dsn_rcpt *rcpts,
	size_t count, const unsigned char *original, size_t len, bool ret_hdrs, size_t max_return)
{
	char date[TIME_RFC5322_MAX], adate[TIME_RFC5322_MAX];
	time_format_rfc5322(time(NULL), 0, date);
	time_format_rfc5322(arrival, 0, adate);
	bool failed = false, delayed = false;
	for (size_t i = 0; i < count; i++) {
		failed |= strcmp(rcpts[i].action, "failed") == 0;
		delayed |= strcmp(rcpts[i].action, "delayed") == 0;
	}
	const char *subject = failed    ? "Undelivered Mail Returned to Sender"
		: delayed               ? "Delayed Mail (still being retried)"
					: "Successful Mail Delivery Report";
	char boundary[64];
	snprintf(boundary, sizeof(boundary), "%s.dsn/%s", id, hostname);
	buf_printf(out,
		"From: Mail Delivery System <MAILER-DAEMON@%s>\r\n"
		"To: <%s>\r\n"
		"Subject: %s\r\n"
		"Date: %s\r\n"
		"Message-ID: <%s.dsn@%s>\r\n"
		"Auto-Submitted: auto-replied\r\n"
		"MIME-Version: 1.0\r\n"
		"Content-Type: multipart/report; report-type=delivery-status;\r\n"
		"\tboundary=\"%s\"\r\n"
		"\r\n"
		"This is a MIME-encapsulated message.\r\n"
		"\r\n"
		"--%s\r\n"
		"Content-Type: text/plain; charset=utf-8\r\n"
		"Content-Transfer-Encoding: 8bit\r\n"
		"\r\n"
		"This is the mail system at host %s.\r\n"
		"\r\n",
		hostname, sender, subject, date, id, hostname, boundary, boundary, hostname);
	if (failed)
		buf_append_str(out, "Your message could not be delivered to one or more "
				    "recipients. It is attached below.\r\n\r\n");
	else if (delayed)
		buf_append_str(out, "Your message has not been delivered yet; the mail system "
				    "will keep trying.\r\n\r\n");
	else
		buf_append_str(out, "Your message was delivered as requested.\r\n\r\n");
	for (size_t i = 0; i < count; i++)
		buf_printf(out, "<%s>: %s\r\n", rcpts[i].address,
			rcpts[i].diagnostic ? rcpts[i].diagnostic : rcpts[i].action);
	buf_printf(out,
		"\r\n--%s\r\n"
		"Content-Type: message/delivery-status\r\n"
		"\r\n"
		"Reporting-MTA: dns; %s\r\n",
		boundary, hostname);
	if (envid != NULL)
		buf_printf(out, "Original-Envelope-Id: %s\r\n", envid);
	buf_printf(out, "Arrival-Date: %s\r\n", adate);
	for (size_t i = 0; i < count; i++) {
		const struct dsn_rcpt *r = &rcpts[i];
		buf_append_str(out, "\r\n");
		if (r->orcpt != NULL)
			buf_printf(out, "Original-Recipient: %s\r\n", r->orcpt);
		buf_printf(out, "Final-Recipient: rfc822; %s\r\nAction: %s\r\nStatus: %s\r\n",
			r->address, r->action, r->status);
		if (r->remote_mta != NULL)
			buf_printf(out, "Remote-MTA: dns; %s\r\n", r->remote_mta);
		if (r->diagnostic != NULL)
			buf_printf(out, "Diagnostic-Code: %s\r\n", r->diagnostic);
		buf_printf(out, "Last-Attempt-Date: %s\r\n", date);
	}
	/* RFC 3462 / 3464: the original, or its header only (RET=HDRS, or
	 * too large to send back). */
	size_t hl = header_len(original, len);
	bool whole = !ret_hdrs && len <= max_return;
	buf_printf(out, "\r\n--%s\r\nContent-Type: %s\r\n\r\n", boundary,
		whole ? "message/rfc822" : "text/rfc822-headers");
	if (len > 0) {
		buf_append(out, original, whole ? len : hl);
		if (out->len >= 2 && !(out->data[out->len - 2] == '\r' && out->data[out->len - 1] == '\n'))
			buf_append_str(out, "\r\n");
	}
	buf_printf(out, "\r\n--%s--\r\n", boundary);
}
