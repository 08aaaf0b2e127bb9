/* IMAP flags and keywords <-> MAPI properties, in one place (RFC 3501
 * 2.3.2; MS-OXCMSG, MS-OXOFLAG, MS-OXOMSG):
 *
 *   \Seen       MSGFLAG_READ in PR_MESSAGE_FLAGS
 *   \Draft      MSGFLAG_UNSENT in PR_MESSAGE_FLAGS
 *   \Flagged    PR_FLAG_STATUS = followupFlagged (2)
 *   \Answered   PR_LAST_VERB_EXECUTED 102/103 (reply, reply all), PR_ICON_INDEX 0x105
 *   $Forwarded  PR_LAST_VERB_EXECUTED 104 (forward), PR_ICON_INDEX 0x106
 *   \Deleted    a store flag (no MAPI equivalent; expunge deletes)
 *   keywords    the Keywords named property (PS_PUBLIC_STRINGS "Keywords",
 *               PT_MV_UNICODE): Outlook's categories
 *
 * A message can be both answered and forwarded but has one last verb, so
 * the store also keeps both as store flags; the last verb shows the one
 * set most recently. \Recent is per session and not stored. */
#ifndef STORE_IMAP_FLAGS_H
#define STORE_IMAP_FLAGS_H

#include <stdbool.h>
#include <stdint.h>

#define STORE_IMAP_SEEN 0x01u
#define STORE_IMAP_ANSWERED 0x02u
#define STORE_IMAP_FLAGGED 0x04u
#define STORE_IMAP_DELETED 0x08u
#define STORE_IMAP_DRAFT 0x10u
#define STORE_IMAP_FORWARDED 0x20u /* the $Forwarded keyword */
#define STORE_IMAP_ALL 0x3fu

/* The store's own message flags (messages.store_flags). */
#define STORE_SF_DELETED 0x1u
#define STORE_SF_ANSWERED 0x2u
#define STORE_SF_FORWARDED 0x4u

/* The MAPI state IMAP flags map to; -1 for an absent property. */
struct store_imap_mapi {
	uint32_t message_flags; /* PR_MESSAGE_FLAGS */
	int32_t flag_status;    /* PR_FLAG_STATUS */
	int32_t last_verb;      /* PR_LAST_VERB_EXECUTED */
	int32_t icon_index;     /* PR_ICON_INDEX */
	uint32_t store_flags;   /* STORE_SF_* */
};

/* MS-OXOMSG / MS-OXOFLAG values used by the mapping. */
#define STORE_VERB_REPLY 102
#define STORE_VERB_REPLY_ALL 103
#define STORE_VERB_FORWARD 104
#define STORE_ICON_REPLIED 0x105
#define STORE_ICON_FORWARDED 0x106
#define STORE_FLAG_STATUS_FLAGGED 2

/* The IMAP system flags (STORE_IMAP_*) of a MAPI state. */
uint32_t store_imap_flags_get(const struct store_imap_mapi *m);
/* Changes m so that store_imap_flags_get(m) == flags (other MAPI state is
 * kept). */
void store_imap_flags_set(struct store_imap_mapi *m, uint32_t flags);

/* "\\Seen", "$Forwarded", ... for one STORE_IMAP_* bit; NULL otherwise. */
const char *store_imap_flag_name(uint32_t bit);
/* Parses a flag name (case-insensitive, RFC 3501 9: flag names are not
 * case-sensitive): 1 with *bit_r for a system flag or $Forwarded, 0 for
 * a keyword (valid atom), -1 for something that is neither (including
 * \Recent, which cannot be stored, and unknown \ flags). */
int store_imap_flag_parse(const char *name, uint32_t *bit_r);

#endif
