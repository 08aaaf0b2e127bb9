/* The IMAP flag mapping (see imap_flags.h). */
#include <string.h>

#include "core/str.h"
#include "store/imap_flags.h"
#include "store/ptags.h"

static bool is_answer_verb(int32_t v)
{
	return v == STORE_VERB_REPLY || v == STORE_VERB_REPLY_ALL;
}

uint32_t store_imap_flags_get(const struct store_imap_mapi *m)
{
	uint32_t f = 0;
	if (m->message_flags & MSGFLAG_READ)
		f |= STORE_IMAP_SEEN;
	if (m->message_flags & MSGFLAG_UNSENT)
		f |= STORE_IMAP_DRAFT;
	if (m->flag_status == STORE_FLAG_STATUS_FLAGGED)
		f |= STORE_IMAP_FLAGGED;
	if (m->store_flags & STORE_SF_DELETED)
		f |= STORE_IMAP_DELETED;
	if ((m->store_flags & STORE_SF_ANSWERED) || is_answer_verb(m->last_verb) ||
		m->icon_index == STORE_ICON_REPLIED)
		f |= STORE_IMAP_ANSWERED;
	if ((m->store_flags & STORE_SF_FORWARDED) || m->last_verb == STORE_VERB_FORWARD ||
		m->icon_index == STORE_ICON_FORWARDED)
		f |= STORE_IMAP_FORWARDED;
	return f;
}

void store_imap_flags_set(struct store_imap_mapi *m, uint32_t flags)
{
	m->message_flags = (flags & STORE_IMAP_SEEN) ? m->message_flags | MSGFLAG_READ
						      : m->message_flags & ~MSGFLAG_READ;
	m->message_flags = (flags & STORE_IMAP_DRAFT) ? m->message_flags | MSGFLAG_UNSENT
						       : m->message_flags & ~MSGFLAG_UNSENT;
	if (flags & STORE_IMAP_FLAGGED)
		m->flag_status = STORE_FLAG_STATUS_FLAGGED;
	else if (m->flag_status == STORE_FLAG_STATUS_FLAGGED)
		m->flag_status = -1;
	m->store_flags = (flags & STORE_IMAP_DELETED) ? m->store_flags | STORE_SF_DELETED
						       : m->store_flags & ~STORE_SF_DELETED;
	bool a = (flags & STORE_IMAP_ANSWERED) != 0, fw = (flags & STORE_IMAP_FORWARDED) != 0;
	m->store_flags = a ? m->store_flags | STORE_SF_ANSWERED : m->store_flags & ~STORE_SF_ANSWERED;
	m->store_flags = fw ? m->store_flags | STORE_SF_FORWARDED
			    : m->store_flags & ~STORE_SF_FORWARDED;
	/* The last verb shows one of them: keep it while it is still true,
	 * else show what is set, else clear it. */
	bool keep = (a && is_answer_verb(m->last_verb)) || (fw && m->last_verb == STORE_VERB_FORWARD);
	if (keep) {
		m->icon_index = m->last_verb == STORE_VERB_FORWARD ? STORE_ICON_FORWARDED
								   : STORE_ICON_REPLIED;
	} else if (a) {
		m->last_verb = STORE_VERB_REPLY;
		m->icon_index = STORE_ICON_REPLIED;
	} else if (fw) {
		m->last_verb = STORE_VERB_FORWARD;
		m->icon_index = STORE_ICON_FORWARDED;
	} else {
		if (is_answer_verb(m->last_verb) || m->last_verb == STORE_VERB_FORWARD)
			m->last_verb = -1;
		if (m->icon_index == STORE_ICON_REPLIED || m->icon_index == STORE_ICON_FORWARDED)
			m->icon_index = -1;
	}
}

static const struct {
	uint32_t bit;
	const char *name;
} names[] = {
	{STORE_IMAP_SEEN, "\\Seen"},
	{STORE_IMAP_ANSWERED, "\\Answered"},
	{STORE_IMAP_FLAGGED, "\\Flagged"},
	{STORE_IMAP_DELETED, "\\Deleted"},
	{STORE_IMAP_DRAFT, "\\Draft"},
	{STORE_IMAP_FORWARDED, "$Forwarded"},
};

const char *store_imap_flag_name(uint32_t bit)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].bit == bit)
			return names[i].name;
	return NULL;
}

int store_imap_flag_parse(const char *name, uint32_t *bit_r)
{
	if (name == NULL || name[0] == '\0')
		return -1;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (str_case_eq(name, names[i].name)) {
			*bit_r = names[i].bit;
			return 1;
		}
	}
	if (name[0] == '\\')
		return -1;
	/* RFC 3501 9: flag-keyword = atom: no atom-specials. */
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
		if (*p <= 0x20 || *p >= 0x7f || strchr("(){%*\"\\]", *p) != NULL)
			return -1;
	}
	return strlen(name) <= 255 ? 0 : -1;
}
