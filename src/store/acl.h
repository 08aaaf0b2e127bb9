/* Folder permissions (MS-OXCPERM). The mailbox owner (and the system
 * logon) has every right everywhere; anybody else gets, per folder, the
 * rights of their own entry, else of the Default entry (member id 0); an
 * anonymous logon gets the Anonymous entry's (member id -1). Folders
 * start with Default and Anonymous at 0 (no rights). */
#ifndef STORE_ACL_H
#define STORE_ACL_H

#include <stdint.h>

#include "core/pool.h"
#include "mapi/mapi.h"

struct store_mailbox;

/* PidTagMemberRights bits (MS-OXCPERM 2.2.7). */
#define frightsReadAny 0x00000001u
#define frightsCreate 0x00000002u
#define frightsEditOwned 0x00000008u
#define frightsDeleteOwned 0x00000010u
#define frightsEditAny 0x00000020u
#define frightsDeleteAny 0x00000040u
#define frightsCreateSubfolder 0x00000080u
#define frightsOwner 0x00000100u
#define frightsContact 0x00000200u
#define frightsVisible 0x00000400u
#define frightsFreeBusySimple 0x00000800u
#define frightsFreeBusyDetailed 0x00001000u
#define rightsAll 0x00001ffbu

/* PidTagMemberId values of the two fixed entries. */
#define STORE_MEMBER_DEFAULT 0
#define STORE_MEMBER_ANONYMOUS (-1)

struct store_permission {
	int64_t member_id;     /* PidTagMemberId */
	const char *principal; /* NULL for Default and Anonymous */
	const char *name;      /* PidTagMemberName */
	uint32_t rights;       /* PidTagMemberRights */
};

/* The folder's permission entries (Default and Anonymous first). Needs
 * frightsOwner or frightsVisible on the folder. */
uint32_t store_acl_list(struct store_mailbox *mb, mapi_id_t fid, pool_t *pool,
	struct store_permission **perms_r, uint32_t *count_r);
/* Sets principal's rights on the folder (adding the entry; rights 0
 * removes it). principal NULL with member_id STORE_MEMBER_DEFAULT or
 * STORE_MEMBER_ANONYMOUS sets those entries. Needs frightsOwner. */
uint32_t store_acl_set(struct store_mailbox *mb, mapi_id_t fid, int64_t member_id,
	const char *principal, const char *name, uint32_t rights);
/* The handle's own rights on a folder (PidTagRights). */
uint32_t store_acl_my_rights(struct store_mailbox *mb, mapi_id_t fid, uint32_t *rights_r);

#endif
