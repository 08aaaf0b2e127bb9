/* NTLM authentication, server side (MS-NLMP), for every protocol that
 * offers it: SMTP AUTH NTLM (MS-OXSMTP), IMAP (MS-OXIMAP4), POP3
 * (MS-OXPOP3) and HTTP. Only NTLMv2 responses are accepted (MS-NLMP
 * 3.3.2); NTLMv1 and anonymous logins are refused. The verifier needs the
 * user's NT hash (directory_user_nt_hash): users without one cannot use
 * NTLM.
 *
 * A protocol runs one exchange per struct directory_ntlm:
 *   NEGOTIATE_MESSAGE from the client -> directory_ntlm_challenge ->
 *   CHALLENGE_MESSAGE to the client -> AUTHENTICATE_MESSAGE from the
 *   client -> directory_ntlm_authenticate.
 * Messages are the binary NTLMSSP messages (the protocol does the base64).
 * Written by hand: no Debian library offers an NTLM server verifier usable
 * without a domain controller. Parsing is bounded and never trusts the
 * offsets in the message. */
#ifndef DIRECTORY_NTLM_H
#define DIRECTORY_NTLM_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/pool.h"
#include "directory/auth.h"
#include "directory/directory.h"
#include "directory/throttle.h"

/* The largest message accepted (an AUTHENTICATE_MESSAGE with a long
 * target info list is about 1 KB). */
#define DIRECTORY_NTLM_MESSAGE_MAX 8192

struct directory_ntlm;

/* A new exchange; server_name (the host name) is announced in the
 * challenge's target information. Never NULL. */
struct directory_ntlm *directory_ntlm_new(const char *server_name);
/* Accepts NULL; sets *n to NULL. */
void directory_ntlm_free(struct directory_ntlm **n);

/* Parses the client's NEGOTIATE_MESSAGE and appends the CHALLENGE_MESSAGE
 * (with a fresh random server challenge) to out. 0, or -1 with a static
 * *error_r for a malformed message or a second call. */
int directory_ntlm_challenge(struct directory_ntlm *n, const void *negotiate, size_t len,
	struct buf *out, const char **error_r);

/* Verifies the AUTHENTICATE_MESSAGE against the NT hash of the user it
 * names ("user@domain", or "user" with the domain field naming one of our
 * domains). Throttled like directory_auth_plain (ip and the user's
 * address). Returns DIRECTORY_AUTH_OK with *user_r (from pool), or another
 * result with *error_r for the log. *username_r (from pool, may be NULL)
 * is the name the client gave, for logs. The exchange is over after
 * this call whatever the result. */
enum directory_auth_result directory_ntlm_authenticate(struct directory_ntlm *n,
	struct directory *dir, struct directory_throttle *throttle, const char *client_ip,
	const void *authenticate, size_t len, pool_t *pool, struct directory_user **user_r,
	const char **username_r, const char **error_r);

/* NTOWFv2 and the NTProofStr (MS-NLMP 3.3.2), exposed for tests and for
 * clients: proof = HMAC_MD5(NTOWFv2(nt_hash, user, domain), server_challenge
 * + blob). user and domain are UTF-8; 0 or -1 for invalid UTF-8. */
int directory_ntlm_v2_proof(const uint8_t nt_hash[16], const char *user, const char *domain,
	const uint8_t server_challenge[8], const void *blob, size_t blob_len, uint8_t proof[16]);

#endif
