/* The MAPI data model, pure (no I/O): property types and tags, values,
 * restrictions, sort orders, IDs and error codes, per MS-OXCDATA.
 *
 * In memory every string value is UTF-8, whatever its property type
 * (PT_STRING8 values are converted from their code page when read from the
 * wire, PT_UNICODE from UTF-16LE); the wire encodings live in
 * mapi/wire.h. Values are allocated from a pool_t owned by the caller. */
#ifndef MAPI_MAPI_H
#define MAPI_MAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/guid.h"
#include "core/pool.h"
#include "mapi/errors.h"

/* --- Property types (MS-OXCDATA 2.11.1) --- */
enum mapi_ptype {
	PT_UNSPECIFIED = 0x0000,
	PT_NULL = 0x0001,
	PT_SHORT = 0x0002,    /* PtypInteger16 */
	PT_LONG = 0x0003,     /* PtypInteger32 */
	PT_FLOAT = 0x0004,    /* PtypFloating32 */
	PT_DOUBLE = 0x0005,   /* PtypFloating64 */
	PT_CURRENCY = 0x0006, /* PtypCurrency: int64, 4 decimal places */
	PT_APPTIME = 0x0007,  /* PtypFloatingTime */
	PT_ERROR = 0x000a,    /* PtypErrorCode */
	PT_BOOLEAN = 0x000b,
	PT_OBJECT = 0x000d, /* PtypObject / PtypEmbeddedTable: a stream */
	PT_I8 = 0x0014,     /* PtypInteger64 */
	PT_STRING8 = 0x001e,
	PT_UNICODE = 0x001f,
	PT_SYSTIME = 0x0040, /* PtypTime: FILETIME */
	PT_CLSID = 0x0048,   /* PtypGuid */
	PT_SVREID = 0x00fb,  /* PtypServerId */
	PT_SRESTRICTION = 0x00fd,
	PT_ACTIONS = 0x00fe, /* PtypRuleAction */
	PT_BINARY = 0x0102,
	PT_MV_FLAG = 0x1000,
	PT_MV_INSTANCE = 0x2000, /* MVI_FLAG: multi-value instance in tables */
	PT_MV_SHORT = 0x1002,
	PT_MV_LONG = 0x1003,
	PT_MV_FLOAT = 0x1004,
	PT_MV_DOUBLE = 0x1005,
	PT_MV_CURRENCY = 0x1006,
	PT_MV_APPTIME = 0x1007,
	PT_MV_I8 = 0x1014,
	PT_MV_STRING8 = 0x101e,
	PT_MV_UNICODE = 0x101f,
	PT_MV_SYSTIME = 0x1040,
	PT_MV_CLSID = 0x1048,
	PT_MV_BINARY = 0x1102,
};

/* A property tag: ID in the high 16 bits, type in the low 16. */
#define PROP_TAG(type, id) ((uint32_t)(((uint32_t)(id) << 16) | (uint32_t)(type)))
#define PROP_ID(tag) ((uint16_t)((uint32_t)(tag) >> 16))
#define PROP_TYPE(tag) ((uint16_t)((uint32_t)(tag)&0xffff))
#define CHANGE_PROP_TYPE(tag, type) (((uint32_t)(tag)&0xffff0000u) | (uint32_t)(type))
/* MVI_FLAG: a multi-valued column expanded to one row per value. */
#define MVI_FLAG (PT_MV_FLAG | PT_MV_INSTANCE)

static inline bool mapi_ptype_is_mv(uint16_t type)
{
	return (type & PT_MV_FLAG) != 0;
}

/* PT_STRING8 and PT_UNICODE (and their MV forms) hold the same in memory. */
static inline bool mapi_ptype_is_string(uint16_t type)
{
	type &= (uint16_t)~(PT_MV_FLAG | PT_MV_INSTANCE);
	return type == PT_STRING8 || type == PT_UNICODE;
}
/* Named properties are mapped to IDs from 0x8000 up (MS-OXCDATA 2.9). */
#define PROP_ID_NAMED_MIN 0x8000
#define PROP_ID_NAMED_MAX 0xfffe

/* --- Values --- */
struct mapi_binary {
	uint32_t cb;
	uint8_t *pb;
};

/* A multi-valued property: count elements of the base type. */
struct mapi_mv {
	uint32_t count;
	union {
		int16_t *i;
		int32_t *l;
		float *flt;
		double *dbl;
		int64_t *cur;
		double *at;
		int64_t *li;
		char **str; /* UTF-8 */
		uint64_t *ft;
		struct guid *guid;
		struct mapi_binary *bin;
	};
};

struct mapi_restriction;

union mapi_pvalue {
	int16_t i;      /* PT_SHORT */
	int32_t l;      /* PT_LONG */
	float flt;      /* PT_FLOAT */
	double dbl;     /* PT_DOUBLE */
	int64_t cur;    /* PT_CURRENCY */
	double at;      /* PT_APPTIME */
	uint32_t err;   /* PT_ERROR: an ec code */
	bool b;         /* PT_BOOLEAN */
	int64_t li;     /* PT_I8 */
	char *str;      /* PT_STRING8, PT_UNICODE: UTF-8, NUL-terminated */
	uint64_t ft;    /* PT_SYSTIME */
	struct guid *guid;              /* PT_CLSID */
	/* PT_BINARY, PT_SVREID, PT_OBJECT (inline data), PT_ACTIONS (the raw
	 * RuleAction buffer of [MS-OXORULE] 2.2.5, parsed by its user) */
	struct mapi_binary bin;
	struct mapi_restriction *res;   /* PT_SRESTRICTION */
	struct mapi_mv mv;              /* PT_MV_* */
};

struct mapi_propval {
	uint32_t tag;
	union mapi_pvalue v;
};

/* A set of property values (a row, an object's properties). Build one
 * with mapi/propval.h (mapi_propvals_set keeps at most one value per
 * property ID and grows vals from a pool); a zeroed struct is empty. */
struct mapi_propvals {
	uint32_t count;
	struct mapi_propval *vals;
	uint32_t cap; /* entries allocated in vals */
};

/* A list of property tags (columns). */
struct mapi_tags {
	uint32_t count;
	uint32_t *tags;
};

/* --- Named properties (MS-OXCDATA 2.6.1 PropertyName) --- */
#define MNID_ID 0x00
#define MNID_STRING 0x01

struct mapi_propname {
	struct guid guid; /* the property set */
	uint8_t kind;     /* MNID_ID or MNID_STRING */
	uint32_t lid;     /* MNID_ID */
	char *name;       /* MNID_STRING, UTF-8 */
};

/* --- Restrictions (MS-OXCDATA 2.12) --- */
enum mapi_res_type {
	RES_AND = 0x00,
	RES_OR = 0x01,
	RES_NOT = 0x02,
	RES_CONTENT = 0x03,
	RES_PROPERTY = 0x04,
	RES_COMPAREPROPS = 0x05,
	RES_BITMASK = 0x06,
	RES_SIZE = 0x07,
	RES_EXIST = 0x08,
	RES_SUBRESTRICTION = 0x09,
	RES_COMMENT = 0x0a,
	RES_COUNT = 0x0b,
};

/* Relational operators (MS-OXCDATA 2.12.5). */
enum mapi_relop {
	RELOP_LT = 0x00,
	RELOP_LE = 0x01,
	RELOP_GT = 0x02,
	RELOP_GE = 0x03,
	RELOP_EQ = 0x04,
	RELOP_NE = 0x05,
	RELOP_RE = 0x06, /* regular expression (MS-OXCDATA: LIKE) */
	RELOP_MEMBER_OF_DL = 0x64,
};

/* Content restriction FuzzyLevel (MS-OXCDATA 2.12.4): low word and flags. */
#define FL_FULLSTRING 0x00000000u
#define FL_SUBSTRING 0x00000001u
#define FL_PREFIX 0x00000002u
#define FL_IGNORECASE 0x00010000u
#define FL_IGNORENONSPACE 0x00020000u
#define FL_LOOSE 0x00040000u

#define BMR_EQZ 0x00
#define BMR_NEZ 0x01

struct mapi_restriction {
	enum mapi_res_type type;
	union {
		struct { /* RES_AND, RES_OR */
			uint32_t count;
			struct mapi_restriction *res;
		} and_or;
		struct { /* RES_NOT */
			struct mapi_restriction *res;
		} not_;
		struct { /* RES_CONTENT */
			uint32_t fuzzy_level;
			uint32_t proptag;
			struct mapi_propval prop;
		} content;
		struct { /* RES_PROPERTY */
			enum mapi_relop relop;
			uint32_t proptag;
			struct mapi_propval prop;
		} property;
		struct { /* RES_COMPAREPROPS */
			enum mapi_relop relop;
			uint32_t proptag1, proptag2;
		} compare_props;
		struct { /* RES_BITMASK */
			uint8_t relop; /* BMR_EQZ, BMR_NEZ */
			uint32_t proptag;
			uint32_t mask;
		} bitmask;
		struct { /* RES_SIZE */
			enum mapi_relop relop;
			uint32_t proptag;
			uint32_t size;
		} size;
		struct { /* RES_EXIST */
			uint32_t proptag;
		} exist;
		struct { /* RES_SUBRESTRICTION: PR_MESSAGE_RECIPIENTS or PR_MESSAGE_ATTACHMENTS */
			uint32_t subobject;
			struct mapi_restriction *res;
		} sub;
		struct { /* RES_COMMENT */
			uint8_t count;
			struct mapi_propval *props;
			struct mapi_restriction *res; /* may be NULL */
		} comment;
		struct { /* RES_COUNT */
			uint32_t count;
			struct mapi_restriction *res;
		} count;
	};
};

/* --- Sort orders (MS-OXCDATA 2.13) --- */
#define TABLE_SORT_ASCEND 0x00
#define TABLE_SORT_DESCEND 0x01
#define TABLE_SORT_MAXIMUM_CATEGORY 0x04

struct mapi_sort {
	uint32_t proptag;
	uint8_t order;
};

struct mapi_sort_order {
	uint16_t count;
	uint16_t categories;
	uint16_t expanded;
	struct mapi_sort *sorts;
};

/* --- IDs (MS-OXCDATA 2.2.1) --- */
/* A Folder ID, Message ID or change number as the 8 bytes on the wire read
 * as a little-endian integer: ReplicaId (2 bytes, little-endian) then
 * GlobalCounter (6 bytes, big-endian). */
typedef uint64_t mapi_id_t;

static inline mapi_id_t mapi_id_make(uint16_t replid, uint64_t globcnt)
{
	uint64_t v = replid;
	for (int i = 0; i < 6; i++)
		v |= ((globcnt >> (8 * (5 - i))) & 0xff) << (16 + 8 * i);
	return v;
}

static inline uint16_t mapi_id_replid(mapi_id_t id)
{
	return (uint16_t)(id & 0xffff);
}

static inline uint64_t mapi_id_globcnt(mapi_id_t id)
{
	uint64_t g = 0;
	for (int i = 0; i < 6; i++)
		g = (g << 8) | ((id >> (16 + 8 * i)) & 0xff);
	return g;
}

/* --- Error codes (MS-OXCDATA 2.4) --- */
/* enum mapi_ec (ecSuccess = 0, ecNotFound, ...) and mapi_ec_name() are
 * generated from src/mapi/errors.tsv into mapi/errors.h. */

#endif
