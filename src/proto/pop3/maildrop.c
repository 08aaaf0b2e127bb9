/* The maildrop: the user's Inbox as it was when the session logged in
 * (RFC 1939 section 8), and the TRANSACTION and UPDATE commands over it.
 *
 * Concurrency: sessions do not lock the maildrop. Each takes its own
 * snapshot at login (UIDs, MIDs, sizes and the MIME blob references), so
 * message numbers and sizes never change under a client, and a message
 * another session (POP3, IMAP, EWS...) deletes meanwhile is still served
 * from its immutable blob. Deletions are applied at QUIT by MID;
 * messages already gone are skipped. See docs/pop3.md for why this was
 * chosen over refusing a second session with [IN-USE]. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/hash.h"
#include "core/hm_time.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "proto/pop3/pop3_int.h"

/* How much of a blob is read at a time for RETR and TOP. */
#define POP3_READ_CHUNK (64 * 1024)

/* LOGIN-DELAY (RFC 2449 section 6.5): returns true when user may log in
 * now, and records the login. */
static bool pop3_login_delay_ok(struct pop3_server *srv, int64_t user_id)
{
	if (srv->set.login_delay_s == 0)
		return true;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t now = ts.tv_sec;
	bool ok = true;
	pthread_mutex_lock(&srv->lock);
	int64_t *last = hash_get(srv->last_login, &user_id, sizeof(user_id), NULL);
	if (last != NULL && now - *last < (int64_t)srv->set.login_delay_s) {
		ok = false;
	} else {
		if (last == NULL) {
			/* Bounded: entries older than the delay mean nothing. */
			if (hash_count(srv->last_login) >= 65536) {
				struct hash_iter it;
				hash_iter_init(&it);
				struct hash *fresh = hash_new(1024);
				while (hash_iter_next(srv->last_login, &it)) {
					int64_t *t = it.value;
					if (now - *t < (int64_t)srv->set.login_delay_s)
						hash_put(fresh, it.key, it.key_len, t, NULL);
					else
						free(t);
				}
				hash_free(&srv->last_login);
				srv->last_login = fresh;
			}
			last = xmalloc(sizeof(*last));
			hash_put(srv->last_login, &user_id, sizeof(user_id), last, NULL);
		}
		*last = now;
	}
	pthread_mutex_unlock(&srv->lock);
	return ok;
}

int pop3_maildrop_open(struct pop3_session *s, struct directory_user *user)
{
	struct log_ctx *lc = net_conn_log(s->conn);
	if (!pop3_login_delay_ok(s->srv, user->id)) {
		pop3_err(s, "LOGIN-DELAY", "Minimum time between logins is %u seconds",
			s->srv->set.login_delay_s);
		return -1;
	}
	struct store_logon logon = {
		.principal = user->address,
		.quota_hard = user->quota,
	};
	struct store_mailbox *mb = NULL;
	uint32_t ec = store_mailbox_open(s->srv->store, &user->mailbox_guid, &logon, &mb);
	if (ec != ecSuccess) {
		log_error(lc, "cannot open the mailbox of %s: ec 0x%x", user->address, ec);
		pop3_err(s, "SYS/TEMP", "Cannot open the maildrop, try again later");
		return -1;
	}
	mapi_id_t inbox = store_mailbox_special_fid(mb, STORE_SPECIAL_INBOX);
	struct store_imap_folder st;
	struct store_imap_msg *msgs = NULL;
	uint32_t n = 0;
	ec = store_imap_folder(mb, inbox, &st);
	if (ec == ecSuccess)
		ec = store_imap_list(mb, inbox, 1, 0, 0, s->cmd_pool, &msgs, &n);
	if (ec != ecSuccess) {
		log_error(lc, "cannot list the Inbox of %s: ec 0x%x", user->address, ec);
		store_mailbox_close(&mb);
		pop3_err(s, "SYS/TEMP", "Cannot open the maildrop, try again later");
		return -1;
	}
	s->msgs = pool_calloc(s->pool, n > 0 ? n : 1, sizeof(*s->msgs));
	s->count = 0;
	s->live_size = 0;
	for (uint32_t i = 0; i < n; i++) {
		/* Messages without MIME (made through MAPI, EWS or ActiveSync)
		 * have nothing to serve until MIME is generated for them. */
		if (!msgs[i].has_mime)
			continue;
		struct pop3_msg *m = &s->msgs[s->count++];
		m->uid = msgs[i].uid;
		m->mid = msgs[i].mid;
		m->size = msgs[i].size;
		m->internal_date = msgs[i].internal_date;
		m->mime = msgs[i].mime;
		s->live_size += m->size;
	}
	s->live_count = s->count;
	s->mb = mb;
	s->inbox = inbox;
	s->uidvalidity = st.uidvalidity;
	s->user = user;
	s->state = POP3_STATE_TRANSACTION;
	log_info(lc, "logged in: %u messages, %llu octets", s->count,
		(unsigned long long)s->live_size);
	pop3_ok(s, "Logged in, %u messages (%llu octets)", s->count,
		(unsigned long long)s->live_size);
	return 0;
}

void pop3_maildrop_close(struct pop3_session *s)
{
	store_mailbox_close(&s->mb);
	s->msgs = NULL;
	s->count = 0;
}

/* The message named by a message-number argument, or NULL after an
 * -ERR (RFC 1939: numbers of deleted messages are refused too). */
static struct pop3_msg *pop3_msg_arg(struct pop3_session *s, struct slice arg)
{
	uint32_t n;
	if (pop3_parse_number(arg, UINT32_MAX, &n) < 0 || n == 0) {
		pop3_err(s, NULL, "Invalid message number");
		s->bad = true;
		return NULL;
	}
	if (n > s->count) {
		pop3_err(s, NULL, "No such message");
		s->bad = true;
		return NULL;
	}
	struct pop3_msg *m = &s->msgs[n - 1];
	if (m->deleted) {
		pop3_err(s, NULL, "Message %u already deleted", n);
		s->bad = true;
		return NULL;
	}
	return m;
}

void pop3_cmd_stat(struct pop3_session *s, const struct pop3_command *cmd)
{
	pop3_ok(s, "%u %llu", s->live_count, (unsigned long long)s->live_size);
}

void pop3_cmd_list(struct pop3_session *s, const struct pop3_command *cmd)
{
	if (cmd->argc == 1) {
		struct pop3_msg *m = pop3_msg_arg(s, cmd->argv[0]);
		if (m != NULL)
			pop3_ok(s, "%u %llu", (unsigned)(m - s->msgs) + 1,
				(unsigned long long)m->size);
		return;
	}
	pop3_ok(s, "%u messages (%llu octets)", s->live_count, (unsigned long long)s->live_size);
	for (uint32_t i = 0; i < s->count; i++) {
		if (s->msgs[i].deleted)
			continue;
		buf_printf(&s->out, "%u %llu\r\n", i + 1, (unsigned long long)s->msgs[i].size);
		if (s->out.len >= POP3_READ_CHUNK && pop3_flush(s) < 0)
			return;
	}
	buf_append_str(&s->out, ".\r\n");
}

/* RFC 1939 section 7: 1 to 70 characters 0x21..0x7E, unique within the
 * maildrop and never reused. The folder's UIDVALIDITY and the message's
 * UID say exactly that (a UID is never reused under one UIDVALIDITY),
 * and IMAP sees the same pair. */
static void pop3_uidl_append(struct pop3_session *s, const struct pop3_msg *m)
{
	buf_printf(&s->out, "%08X%08X", s->uidvalidity, m->uid);
}

void pop3_cmd_uidl(struct pop3_session *s, const struct pop3_command *cmd)
{
	if (cmd->argc == 1) {
		struct pop3_msg *m = pop3_msg_arg(s, cmd->argv[0]);
		if (m != NULL) {
			buf_printf(&s->out, "+OK %u ", (unsigned)(m - s->msgs) + 1);
			pop3_uidl_append(s, m);
			buf_append_str(&s->out, "\r\n");
		}
		return;
	}
	pop3_ok(s, "Unique-ID listing follows");
	for (uint32_t i = 0; i < s->count; i++) {
		if (s->msgs[i].deleted)
			continue;
		buf_printf(&s->out, "%u ", i + 1);
		pop3_uidl_append(s, &s->msgs[i]);
		buf_append_str(&s->out, "\r\n");
		if (s->out.len >= POP3_READ_CHUNK && pop3_flush(s) < 0)
			return;
	}
	buf_append_str(&s->out, ".\r\n");
}

/* Streams a message (RETR) or its head (TOP): reads the blob in chunks,
 * dot-stuffs each into s->out and hands it to the connection, so that
 * memory stays bounded whatever the message's size. */
static void pop3_send_message(struct pop3_session *s, struct pop3_msg *m, bool top,
	uint64_t lines)
{
	int fd = -1;
	uint32_t ec = store_blob_open_fd(s->srv->store, &m->mime, &fd);
	if (ec != ecSuccess) {
		log_warning(net_conn_log(s->conn), "message uid %u: MIME blob unreadable (ec 0x%x)",
			m->uid, ec);
		pop3_err(s, "SYS/TEMP", "Message is no longer available");
		return;
	}
	/* One buffer for the session: a pool allocation would be zeroed
	 * for every message. */
	if (s->chunk == NULL)
		s->chunk = xmalloc(POP3_READ_CHUNK);
	unsigned char *chunk = s->chunk;
	struct pop3_msgout mo;
	pop3_msgout_init(&mo, top, lines);
	if (top)
		pop3_ok(s, "Top of message follows");
	else
		pop3_ok(s, "%llu octets", (unsigned long long)m->size);
	uint64_t left = m->size;
	bool more = true;
	while (more && left > 0) {
		size_t want = left < POP3_READ_CHUNK ? (size_t)left : POP3_READ_CHUNK;
		ssize_t r = read(fd, chunk, want);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			/* The blob is shorter than the store says: the response
			 * has begun, so end it cleanly and log. */
			log_error(net_conn_log(s->conn), "message uid %u: blob ended %llu octets early",
				m->uid, (unsigned long long)left);
			break;
		}
		left -= (uint64_t)r;
		more = pop3_msgout_feed(&mo, chunk, (size_t)r, &s->out);
		if (s->out.len >= POP3_READ_CHUNK && pop3_flush(s) < 0) {
			close(fd);
			s->closing = true;
			return;
		}
	}
	close(fd);
	pop3_msgout_finish(&mo, &s->out);
	if (!top)
		m->retrieved = true;
}

void pop3_cmd_retr(struct pop3_session *s, const struct pop3_command *cmd)
{
	struct pop3_msg *m = pop3_msg_arg(s, cmd->argv[0]);
	if (m != NULL)
		pop3_send_message(s, m, false, 0);
}

void pop3_cmd_top(struct pop3_session *s, const struct pop3_command *cmd)
{
	struct pop3_msg *m = pop3_msg_arg(s, cmd->argv[0]);
	if (m == NULL)
		return;
	uint32_t lines;
	if (pop3_parse_number(cmd->argv[1], UINT32_MAX, &lines) < 0) {
		pop3_err(s, NULL, "Invalid number of lines");
		s->bad = true;
		return;
	}
	pop3_send_message(s, m, true, lines);
}

void pop3_cmd_dele(struct pop3_session *s, const struct pop3_command *cmd)
{
	struct pop3_msg *m = pop3_msg_arg(s, cmd->argv[0]);
	if (m == NULL)
		return;
	m->deleted = true;
	s->live_count--;
	s->live_size -= m->size;
	pop3_ok(s, "Message %u deleted", (unsigned)(m - s->msgs) + 1);
}

void pop3_cmd_rset(struct pop3_session *s, const struct pop3_command *cmd)
{
	for (uint32_t i = 0; i < s->count; i++) {
		if (s->msgs[i].deleted) {
			s->msgs[i].deleted = false;
			s->live_count++;
			s->live_size += s->msgs[i].size;
		}
	}
	pop3_ok(s, "Maildrop has %u messages (%llu octets)", s->live_count,
		(unsigned long long)s->live_size);
}

/* EXPIRE (RFC 2449 section 6.7): with 0, a message retrieved is not left
 * on the server; with N days, one retrieved that has been in the maildrop
 * longer than N days is removed at QUIT too. */
static bool pop3_expired(const struct pop3_session *s, const struct pop3_msg *m, int64_t now)
{
	int days = s->srv->set.expire_days;
	if (days == POP3_EXPIRE_NEVER || !m->retrieved)
		return false;
	return days == 0 ||
	       now - time_filetime_to_unix(m->internal_date, NULL) >= (int64_t)days * 86400;
}

void pop3_update(struct pop3_session *s)
{
	int64_t now = time(NULL);
	mapi_id_t *mids = pool_calloc(s->cmd_pool, s->count > 0 ? s->count : 1, sizeof(*mids));
	uint32_t n = 0;
	for (uint32_t i = 0; i < s->count; i++) {
		if (s->msgs[i].deleted || pop3_expired(s, &s->msgs[i], now))
			mids[n++] = s->msgs[i].mid;
	}
	if (n > 0) {
		uint32_t partial = 0;
		uint32_t ec = store_messages_delete(s->mb, s->inbox, mids, n, &partial);
		if (ec != ecSuccess) {
			log_error(net_conn_log(s->conn), "UPDATE: deleting %u messages failed: ec 0x%x",
				n, ec);
			/* RFC 1939 section 6: -ERR when some deleted messages
			 * were not removed. */
			pop3_err(s, "SYS/TEMP", "Some deleted messages not removed");
			return;
		}
		log_info(net_conn_log(s->conn), "UPDATE: deleted %u messages (%u already gone)",
			n - partial, partial);
	}
	pop3_ok(s, "%s POP3 server signing off (%u messages left)", s->srv->set.hostname,
		s->count - n);
}
