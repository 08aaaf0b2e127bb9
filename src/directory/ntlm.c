/* NTLMv2 server-side verification (MS-NLMP), written by hand: no Debian
 * library verifies NTLM against a locally stored NT hash without a domain
 * controller. See directory/ntlm.h. */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "core/hm_time.h"
#include "core/str.h"
#include "core/utf.h"
#include "core/xalloc.h"
#include "directory/directory_private.h"
#include "directory/ntlm.h"

/* MS-NLMP 2.2.2.5 NEGOTIATE flags */
#define NTLMSSP_NEGOTIATE_UNICODE 0x00000001u
#define NTLM_NEGOTIATE_OEM 0x00000002u
#define NTLMSSP_REQUEST_TARGET 0x00000004u
#define NTLMSSP_NEGOTIATE_SIGN 0x00000010u
#define NTLMSSP_NEGOTIATE_SEAL 0x00000020u
#define NTLMSSP_NEGOTIATE_NTLM 0x00000200u
#define NTLMSSP_NEGOTIATE_ALWAYS_SIGN 0x00008000u
#define NTLMSSP_TARGET_TYPE_SERVER 0x00020000u
#define NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY 0x00080000u
#define NTLMSSP_NEGOTIATE_TARGET_INFO 0x00800000u
#define NTLMSSP_NEGOTIATE_VERSION 0x02000000u
#define NTLMSSP_NEGOTIATE_128 0x20000000u
#define NTLMSSP_NEGOTIATE_KEY_EXCH 0x40000000u
#define NTLMSSP_NEGOTIATE_56 0x80000000u

/* MS-NLMP 2.2.2.1 AV_PAIR ids */
#define MSV_AV_EOL 0
#define MSV_AV_NB_COMPUTER_NAME 1
#define MSV_AV_NB_DOMAIN_NAME 2
#define MSV_AV_DNS_COMPUTER_NAME 3
#define MSV_AV_DNS_DOMAIN_NAME 4
#define MSV_AV_TIMESTAMP 7

static const uint8_t ntlm_signature[8] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};

enum ntlm_state { NTLM_START, NTLM_CHALLENGED, NTLM_DONE };

struct directory_ntlm {
	enum ntlm_state state;
	char *server_name;
	uint32_t flags; /* what the challenge announced */
	uint8_t challenge[8];
};

struct directory_ntlm *directory_ntlm_new(const char *server_name)
{
	struct directory_ntlm *n = xcalloc(1, sizeof(*n));
	n->server_name = xstrdup(server_name != NULL && *server_name ? server_name : "localhost");
	return n;
}

void directory_ntlm_free(struct directory_ntlm **np)
{
	struct directory_ntlm *n = *np;
	if (n == NULL)
		return;
	explicit_bzero(n->challenge, sizeof(n->challenge));
	free(n->server_name);
	free(n);
	*np = NULL;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
		((uint32_t)p[3] << 24);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A (Len, MaxLen, Offset) field of len bytes at off in a message of mlen
 * bytes; 0 with the slice, or -1 when it points outside. */
static int field(const uint8_t *m, size_t mlen, size_t off, struct slice *r)
{
	if (off + 8 > mlen)
		return -1;
	uint16_t len = rd16(m + off);
	uint32_t at = rd32(m + off + 4);
	if (len == 0) {
		*r = SLICE(m, 0);
		return 0;
	}
	if (at > mlen || len > mlen - at)
		return -1;
	*r = SLICE(m + at, len);
	return 0;
}

/* The NetBIOS-style name: the first label, upper-cased, at most 15. */
static void nb_name(const char *host, char out[16])
{
	size_t i = 0;
	for (; host[i] && host[i] != '.' && i < 15; i++)
		out[i] = (char)ascii_toupper((unsigned char)host[i]);
	out[i] = '\0';
}

static void av_pair(struct buf *b, uint16_t id, const void *v, size_t len)
{
	buf_append_u16le(b, id);
	buf_append_u16le(b, (uint16_t)len);
	buf_append(b, v, len);
}

static void av_str(struct buf *b, uint16_t id, const char *s)
{
	struct buf u;
	buf_init(&u, NULL);
	utf8_to_utf16le_lossy(s, strlen(s), &u);
	av_pair(b, id, u.data, u.len);
	buf_deinit(&u);
}

int directory_ntlm_challenge(struct directory_ntlm *n, const void *negotiate, size_t len,
	struct buf *out, const char **error_r)
{
	const uint8_t *m = negotiate;
	if (n->state != NTLM_START) {
		*error_r = "NTLM exchange already started";
		return -1;
	}
	/* MS-NLMP 2.2.1.1: signature, type 1, flags (then optional
	 * domain/workstation fields we do not need). */
	if (len < 16 || len > DIRECTORY_NTLM_MESSAGE_MAX || memcmp(m, ntlm_signature, 8) != 0 ||
		rd32(m + 8) != 1) {
		*error_r = "not an NTLM NEGOTIATE_MESSAGE";
		return -1;
	}
	uint32_t cf = rd32(m + 12);
	uint32_t f = NTLMSSP_REQUEST_TARGET | NTLMSSP_NEGOTIATE_NTLM |
		NTLMSSP_NEGOTIATE_ALWAYS_SIGN | NTLMSSP_TARGET_TYPE_SERVER |
		NTLMSSP_NEGOTIATE_TARGET_INFO | NTLMSSP_NEGOTIATE_VERSION;
	f |= (cf & NTLMSSP_NEGOTIATE_UNICODE) ? NTLMSSP_NEGOTIATE_UNICODE : NTLM_NEGOTIATE_OEM;
	f |= cf & (NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY | NTLMSSP_NEGOTIATE_128 |
			  NTLMSSP_NEGOTIATE_56 | NTLMSSP_NEGOTIATE_KEY_EXCH |
			  NTLMSSP_NEGOTIATE_SIGN | NTLMSSP_NEGOTIATE_SEAL);
	n->flags = f;
	if (RAND_bytes(n->challenge, sizeof(n->challenge)) != 1) {
		*error_r = "no randomness for the NTLM challenge";
		return -1;
	}
	char nb[16];
	nb_name(n->server_name, nb);
	struct buf target, info;
	buf_init(&target, NULL);
	buf_init(&info, NULL);
	if (f & NTLMSSP_NEGOTIATE_UNICODE)
		utf8_to_utf16le_lossy(nb, strlen(nb), &target);
	else
		buf_append_str(&target, nb);
	av_str(&info, MSV_AV_NB_DOMAIN_NAME, nb);
	av_str(&info, MSV_AV_NB_COMPUTER_NAME, nb);
	av_str(&info, MSV_AV_DNS_DOMAIN_NAME, n->server_name);
	av_str(&info, MSV_AV_DNS_COMPUTER_NAME, n->server_name);
	uint8_t ts[8];
	uint64_t now = time_filetime_now();
	for (int i = 0; i < 8; i++)
		ts[i] = (uint8_t)(now >> (8 * i));
	av_pair(&info, MSV_AV_TIMESTAMP, ts, 8);
	av_pair(&info, MSV_AV_EOL, NULL, 0);

	/* MS-NLMP 2.2.1.2 CHALLENGE_MESSAGE: 56 fixed bytes, then payload. */
	size_t base = out->len;
	uint8_t *h = buf_append_space(out, 56);
	memcpy(h, ntlm_signature, 8);
	wr32(h + 8, 2);
	wr16(h + 12, (uint16_t)target.len);
	wr16(h + 14, (uint16_t)target.len);
	wr32(h + 16, 56);
	wr32(h + 20, f);
	memcpy(h + 24, n->challenge, 8);
	wr16(h + 40, (uint16_t)info.len);
	wr16(h + 42, (uint16_t)info.len);
	wr32(h + 44, (uint32_t)(56 + target.len));
	/* Version (MS-NLMP 2.2.2.10): 6.1 build 7601, NTLMSSP_REVISION_W2K3. */
	h[48] = 6;
	h[49] = 1;
	wr16(h + 50, 7601);
	h[55] = 0x0f;
	(void)base;
	buf_append(out, target.data, target.len);
	buf_append(out, info.data, info.len);
	buf_deinit(&target);
	buf_deinit(&info);
	n->state = NTLM_CHALLENGED;
	return 0;
}

static int hmac_md5(const void *key, size_t klen, const void *d1, size_t l1, const void *d2,
	size_t l2, uint8_t out[16])
{
	/* HMAC over two pieces without concatenating them. */
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string("digest", (char *)"MD5", 0),
		OSSL_PARAM_construct_end(),
	};
	size_t olen = 0;
	int ok = ctx != NULL && EVP_MAC_init(ctx, key, klen, params) == 1 &&
		EVP_MAC_update(ctx, d1, l1) == 1 && (l2 == 0 || EVP_MAC_update(ctx, d2, l2) == 1) &&
		EVP_MAC_final(ctx, out, &olen, 16) == 1 && olen == 16;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ok ? 0 : -1;
}

int directory_ntlm_v2_proof(const uint8_t nt_hash[16], const char *user, const char *domain,
	const uint8_t server_challenge[8], const void *blob, size_t blob_len, uint8_t proof[16])
{
	/* MS-NLMP 3.3.2: NTOWFv2 = HMAC_MD5(NTOWFv1, UNICODE(Uppercase(User)
	 * + UserDom)). Upper-casing covers ASCII, as every Windows client
	 * sends user names that matter here (addresses). */
	struct buf ud, u16;
	buf_init(&ud, NULL);
	buf_init(&u16, NULL);
	for (const char *c = user; *c; c++)
		buf_append_byte(&ud, (unsigned char)ascii_toupper((unsigned char)*c));
	buf_append_str(&ud, domain);
	int r = utf8_to_utf16le(ud.data, ud.len, &u16);
	uint8_t key[16];
	if (r == 0)
		r = hmac_md5(nt_hash, 16, u16.data, u16.len, NULL, 0, key);
	if (r == 0)
		r = hmac_md5(key, 16, server_challenge, 8, blob, blob_len, proof);
	explicit_bzero(key, sizeof(key));
	buf_deinit(&ud);
	buf_deinit(&u16);
	return r < 0 ? -1 : 0;
}

/* A string field of the AUTHENTICATE_MESSAGE as UTF-8 in pool. */
static char *field_str(pool_t *pool, struct slice f, bool unicode)
{
	struct buf b;
	buf_init(&b, pool);
	if (unicode) {
		if (f.len % 2 != 0 || utf16le_to_utf8(f.ptr, f.len, &b) < 0)
			return NULL;
	} else {
		/* OEM: take ASCII, refuse the rest (no code page is known). */
		for (size_t i = 0; i < f.len; i++)
			if (f.ptr[i] == 0 || f.ptr[i] >= 0x80)
				return NULL;
		buf_append(&b, f.ptr, f.len);
	}
	if (memchr(b.data, 0, b.len) != NULL)
		return NULL;
	return (char *)buf_cstr(&b);
}

enum directory_auth_result directory_ntlm_authenticate(struct directory_ntlm *n,
	struct directory *dir, struct directory_throttle *throttle, const char *client_ip,
	const void *authenticate, size_t len, pool_t *pool, struct directory_user **user_r,
	const char **username_r, const char **error_r)
{
	const uint8_t *m = authenticate;
	*user_r = NULL;
	if (username_r != NULL)
		*username_r = NULL;
	if (n->state != NTLM_CHALLENGED) {
		*error_r = "no NTLM challenge was sent";
		return DIRECTORY_AUTH_FAILED;
	}
	n->state = NTLM_DONE;
	struct slice nt, dom, usr;
	/* MS-NLMP 2.2.1.3 AUTHENTICATE_MESSAGE */
	if (len < 64 || len > DIRECTORY_NTLM_MESSAGE_MAX || memcmp(m, ntlm_signature, 8) != 0 ||
		rd32(m + 8) != 3 || field(m, len, 20, &nt) < 0 || field(m, len, 28, &dom) < 0 ||
		field(m, len, 36, &usr) < 0) {
		*error_r = "malformed NTLM AUTHENTICATE_MESSAGE";
		return DIRECTORY_AUTH_FAILED;
	}
	bool unicode = (rd32(m + 60) & NTLMSSP_NEGOTIATE_UNICODE) != 0;
	char *user = field_str(pool, usr, unicode);
	char *domain = field_str(pool, dom, unicode);
	if (user == NULL || domain == NULL || user[0] == '\0') {
		*error_r = "NTLM: anonymous or unreadable user name";
		return DIRECTORY_AUTH_FAILED;
	}
	if (username_r != NULL)
		*username_r = domain[0] ? pool_printf(pool, "%s\\%s", domain, user) : user;
	/* 16 bytes of NTProofStr and a blob of at least 28 (MS-NLMP
	 * 2.2.2.7): a 24-byte response is NTLMv1, which we refuse. */
	if (nt.len < 16 + 28) {
		*error_r = "NTLM: not an NTLMv2 response (NTLMv1 and anonymous are refused)";
		return DIRECTORY_AUTH_FAILED;
	}
	/* Which of our users: an address, or user + a DNS domain of ours. */
	const char *address = strchr(user, '@') != NULL ? user
		: strchr(domain, '.') != NULL               ? pool_printf(pool, "%s@%s", user, domain)
							    : user;
	char key[DIRECTORY_THROTTLE_KEY_MAX + 1];
	str_lcpy(key, address, sizeof(key));
	str_lower(key);
	struct directory_user *u = NULL;
	uint8_t hash[DIRECTORY_NT_HASH_LEN];
	int have = 0;
	int rc = directory_user_get(dir, address, pool, &u, error_r);
	if (rc < 0)
		return DIRECTORY_AUTH_ERROR;
	if (rc > 0) {
		str_lcpy(key, u->address, sizeof(key));
		str_lower(key);
		have = directory_user_nt_hash(dir, u->id, hash, error_r);
		if (have < 0)
			return DIRECTORY_AUTH_ERROR;
	}
	if (throttle != NULL) {
		enum directory_throttle_verdict v = directory_throttle_begin(throttle, client_ip, key);
		if (v != DIRECTORY_THROTTLE_PASS) {
			*error_r = "too many failed logins";
			return DIRECTORY_AUTH_THROTTLED;
		}
	}
	if (have == 0)
		memset(hash, 0, sizeof(hash)); /* same work either way */
	uint8_t proof[16];
	int ok = directory_ntlm_v2_proof(hash, user, domain, n->challenge, nt.ptr + 16, nt.len - 16,
			 proof) == 0 &&
		have == 1 && str_const_eq(proof, nt.ptr, 16);
	explicit_bzero(hash, sizeof(hash));
	if (throttle != NULL) {
		enum directory_throttle_verdict v =
			directory_throttle_end(throttle, client_ip, key, ok);
		if (v != DIRECTORY_THROTTLE_PASS) {
			*error_r = "too many failed logins";
			return DIRECTORY_AUTH_THROTTLED;
		}
	}
	if (!ok) {
		*error_r = have ? "NTLM: wrong password" : "NTLM: unknown user or no NT hash stored";
		return DIRECTORY_AUTH_FAILED;
	}
	if (!u->enabled) {
		*error_r = "account disabled";
		return DIRECTORY_AUTH_DISABLED;
	}
	*user_r = u;
	return DIRECTORY_AUTH_OK;
}
