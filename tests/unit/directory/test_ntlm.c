/* NTLMv2 server verification (MS-NLMP): the spec's test vector, complete
 * exchanges against a directory (right and wrong password, user without
 * an NT hash, user@domain and domain\user forms, NTLMv1 refused,
 * throttling), and malformed messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/provider.h>

#include "core/utf.h"
#include "directory/ntlm.h"
#include "testdir.h"

struct fixture {
	char *tmp;
	struct directory *dir;
	pool_t *pool;
	struct directory_throttle *throttle;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->tmp = testdir_new();
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", f->tmp, DIRECTORY_DB_NAME);
	const struct directory_settings set = {.password_hash_cost = 1};
	const char *err = NULL;
	if (directory_open(path, &set, &f->dir, &err) < 0 ||
		directory_domain_add(f->dir, "example.com", &err) < 0)
		return -1;
	f->pool = pool_new("test", 0);
	struct directory_user_spec spec = {
		.address = "alice@example.com", .password = "Wonderland-1", .nt_hash = true};
	if (directory_user_add(f->dir, &spec, NULL, NULL, &err) < 0)
		return -1;
	spec = (struct directory_user_spec){.address = "bob@example.com",
		.password = "Builder-22"};
	if (directory_user_add(f->dir, &spec, NULL, NULL, &err) < 0)
		return -1;
	struct directory_throttle_settings ts = {
		.max_failures_per_ip = 100, .max_failures_per_user = 3, .window_secs = 900};
	f->throttle = directory_throttle_new(&ts);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	directory_throttle_free(&f->throttle);
	directory_close(&f->dir);
	pool_free(&f->pool);
	testdir_free(f->tmp);
	free(f);
	return 0;
}

static void test_spec_vector(void **state)
{
	/* MS-NLMP 4.2.4: User "User", UserDom "Domain", password "Password",
	 * server challenge 0123456789abcdef, client challenge aa..aa, time 0,
	 * target info NbDomainName "Domain" + NbComputerName "Server". */
	const uint8_t nt[16] = {0xa4, 0xf4, 0x9c, 0x40, 0x65, 0x10, 0xbd, 0xca, 0xb6, 0x82, 0x4e,
		0xe7, 0xc3, 0x0f, 0xd8, 0x52};
	const uint8_t sc[8] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
	uint8_t blob[28 + 32 + 4 + 4] = {0x01, 0x01};
	size_t n = 16;
	memset(blob + n, 0xaa, 8);
	n += 8 + 4;
	const uint8_t av[] = {0x02, 0, 0x0c, 0, 'D', 0, 'o', 0, 'm', 0, 'a', 0, 'i', 0, 'n', 0, 0x01,
		0, 0x0c, 0, 'S', 0, 'e', 0, 'r', 0, 'v', 0, 'e', 0, 'r', 0, 0, 0, 0, 0};
	memcpy(blob + n, av, sizeof(av));
	n += sizeof(av) + 4;
	uint8_t proof[16];
	assert_int_equal(directory_ntlm_v2_proof(nt, "User", "Domain", sc, blob, n, proof), 0);
	const uint8_t want[16] = {0x68, 0xcd, 0x0a, 0xb8, 0x51, 0xe5, 0x1c, 0x96, 0xaa, 0xbc, 0x92,
		0x7b, 0xeb, 0xef, 0x6a, 0x1c};
	assert_memory_equal(proof, want, 16);
	/* The user name is upper-cased, the domain is not. */
	uint8_t p2[16];
	directory_ntlm_v2_proof(nt, "user", "Domain", sc, blob, n, p2);
	assert_memory_equal(p2, want, 16);
	directory_ntlm_v2_proof(nt, "User", "DOMAIN", sc, blob, n, p2);
	assert_memory_not_equal(p2, want, 16);
}

static void nt_hash_of(const char *password, uint8_t out[16])
{
	/* MD4 lives in OpenSSL 3's legacy provider; a library context of
	 * our own, freed again, leaves nothing behind. */
	struct buf u;
	buf_init(&u, NULL);
	utf8_to_utf16le(password, strlen(password), &u);
	OSSL_LIB_CTX *lc = OSSL_LIB_CTX_new();
	OSSL_PROVIDER *legacy = OSSL_PROVIDER_load(lc, "legacy");
	OSSL_PROVIDER *def = OSSL_PROVIDER_load(lc, "default");
	EVP_MD *md4 = EVP_MD_fetch(lc, "MD4", NULL);
	assert_non_null(md4);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned len = 16;
	EVP_DigestInit_ex(c, md4, NULL);
	EVP_DigestUpdate(c, u.data, u.len);
	EVP_DigestFinal_ex(c, out, &len);
	EVP_MD_CTX_free(c);
	EVP_MD_free(md4);
	OSSL_PROVIDER_unload(def);
	OSSL_PROVIDER_unload(legacy);
	OSSL_LIB_CTX_free(lc);
	buf_deinit(&u);
}

static void put16(struct buf *b, size_t at, uint16_t v)
{
	b->data[at] = (uint8_t)v;
	b->data[at + 1] = (uint8_t)(v >> 8);
}

static void put32(struct buf *b, size_t at, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b->data[at + (size_t)i] = (uint8_t)(v >> (8 * i));
}

static void field_at(struct buf *b, size_t hdr, const void *data, size_t len)
{
	put16(b, hdr, (uint16_t)len);
	put16(b, hdr + 2, (uint16_t)len);
	put32(b, hdr + 4, (uint32_t)b->len);
	buf_append(b, data, len);
}

/* Runs a whole exchange as a client would: NEGOTIATE, read the
 * CHALLENGE, answer with an NTLMv2 AUTHENTICATE for user/domain with
 * password. ntlen_override > 0 sends a response of that length instead
 * (NTLMv1 is 24). */
static enum directory_auth_result exchange(struct fixture *f, const char *user,
	const char *domain, const char *password, size_t ntlen_override, const char **who)
{
	struct directory_ntlm *n = directory_ntlm_new("mail.example.com");
	const char *err = NULL;
	uint8_t neg[32] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0, 1, 0, 0, 0, 0x07, 0x82, 0x08,
		0xa2};
	struct buf ch;
	buf_init(&ch, f->pool);
	assert_int_equal(directory_ntlm_challenge(n, neg, sizeof(neg), &ch, &err), 0);
	assert_true(ch.len > 56);
	assert_memory_equal(ch.data, "NTLMSSP\0\2\0\0\0", 12);
	const uint8_t *sc = ch.data + 24;
	uint16_t tilen = (uint16_t)(ch.data[40] | (ch.data[41] << 8));
	uint32_t tioff = (uint32_t)(ch.data[44] | (ch.data[45] << 8));
	assert_true(tioff + tilen <= ch.len);
	/* The target info ends with MsvAvEOL. */
	assert_memory_equal(ch.data + tioff + tilen - 4, "\0\0\0\0", 4);
	/* A second NEGOTIATE in the same exchange is refused. */
	struct buf again;
	buf_init(&again, f->pool);
	assert_int_equal(directory_ntlm_challenge(n, neg, sizeof(neg), &again, &err), -1);

	uint8_t nt[16];
	nt_hash_of(password, nt);
	struct buf blob;
	buf_init(&blob, f->pool);
	uint8_t head[28] = {1, 1};
	memset(head + 16, 0x5a, 8);
	buf_append(&blob, head, sizeof(head));
	buf_append(&blob, ch.data + tioff, tilen);
	buf_append_fill(&blob, 0, 4);
	uint8_t proof[16];
	assert_int_equal(directory_ntlm_v2_proof(nt, user, domain, sc, blob.data, blob.len, proof),
		0);
	struct buf ntresp;
	buf_init(&ntresp, f->pool);
	buf_append(&ntresp, proof, 16);
	buf_append(&ntresp, blob.data, blob.len);
	if (ntlen_override > 0)
		buf_truncate(&ntresp, ntlen_override);

	struct buf au, u16u, u16d;
	buf_init(&au, f->pool);
	buf_init(&u16u, f->pool);
	buf_init(&u16d, f->pool);
	utf8_to_utf16le(user, strlen(user), &u16u);
	utf8_to_utf16le(domain, strlen(domain), &u16d);
	buf_append_space(&au, 72);
	memcpy(au.data, "NTLMSSP\0\3\0\0\0", 12);
	put32(&au, 60, 0xa2888205u); /* UNICODE among others */
	field_at(&au, 12, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 24);
	field_at(&au, 20, ntresp.data, ntresp.len);
	field_at(&au, 28, u16d.data, u16d.len);
	field_at(&au, 36, u16u.data, u16u.len);
	field_at(&au, 44, "", 0);
	field_at(&au, 52, "", 0);
	struct directory_user *u = NULL;
	enum directory_auth_result r = directory_ntlm_authenticate(n, f->dir, f->throttle,
		"192.0.2.1", au.data, au.len, f->pool, &u, who, &err);
	if (r == DIRECTORY_AUTH_OK)
		assert_string_equal(u->address, "alice@example.com");
	else
		assert_non_null(err);
	/* The exchange is over: the same message again fails. */
	assert_int_equal(directory_ntlm_authenticate(n, f->dir, NULL, NULL, au.data, au.len,
				 f->pool, &u, NULL, &err),
		DIRECTORY_AUTH_FAILED);
	directory_ntlm_free(&n);
	assert_null(n);
	return r;
}

static void test_exchange(void **state)
{
	struct fixture *f = *state;
	const char *who;
	assert_int_equal(exchange(f, "alice@example.com", "", "Wonderland-1", 0, &who),
		DIRECTORY_AUTH_OK);
	assert_string_equal(who, "alice@example.com");
	assert_int_equal(exchange(f, "Alice", "example.com", "Wonderland-1", 0, &who),
		DIRECTORY_AUTH_OK);
	assert_string_equal(who, "example.com\\Alice");
	assert_int_equal(exchange(f, "alice@example.com", "", "wrong", 0, &who),
		DIRECTORY_AUTH_FAILED);
	/* No NT hash stored: NTLM cannot work for bob, whatever he sends. */
	assert_int_equal(exchange(f, "bob@example.com", "", "Builder-22", 0, &who),
		DIRECTORY_AUTH_FAILED);
	assert_int_equal(exchange(f, "nobody@example.com", "", "x", 0, &who),
		DIRECTORY_AUTH_FAILED);
	/* NTLMv1 (a 24-byte response) is refused. */
	assert_int_equal(exchange(f, "alice@example.com", "", "Wonderland-1", 24, &who),
		DIRECTORY_AUTH_FAILED);
}

static void test_throttle(void **state)
{
	struct fixture *f = *state;
	const char *who;
	for (int i = 0; i < 3; i++)
		assert_int_equal(exchange(f, "alice@example.com", "", "bad", 0, &who),
			DIRECTORY_AUTH_FAILED);
	assert_int_equal(exchange(f, "alice@example.com", "", "Wonderland-1", 0, &who),
		DIRECTORY_AUTH_THROTTLED);
}

static void test_malformed(void **state)
{
	struct fixture *f = *state;
	const char *err;
	struct buf out;
	buf_init(&out, f->pool);
	struct directory_ntlm *n = directory_ntlm_new(NULL);
	assert_int_equal(directory_ntlm_challenge(n, "NTLMSSP", 8, &out, &err), -1);
	assert_int_equal(directory_ntlm_challenge(n, "NTLMSSP\0\3\0\0\0\0\0\0\0", 16, &out, &err),
		-1);
	struct directory_user *u;
	/* AUTHENTICATE before any challenge. */
	uint8_t au[80] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0, 3};
	assert_int_equal(directory_ntlm_authenticate(n, f->dir, NULL, NULL, au, sizeof(au), f->pool,
				 &u, NULL, &err),
		DIRECTORY_AUTH_FAILED);
	directory_ntlm_free(&n);
	/* Offsets and lengths pointing outside the message, at every field. */
	for (size_t field = 12; field <= 52; field += 8) {
		n = directory_ntlm_new("x");
		uint8_t neg[16] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0, 1, 0, 0, 0, 1, 0, 0, 0};
		buf_reset(&out);
		assert_int_equal(directory_ntlm_challenge(n, neg, 16, &out, &err), 0);
		uint8_t m[80] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0, 3};
		m[field] = 0xff;
		m[field + 1] = 0x7f;
		m[field + 4] = 0x40;
		assert_int_equal(directory_ntlm_authenticate(n, f->dir, NULL, NULL, m, sizeof(m),
					 f->pool, &u, NULL, &err),
			DIRECTORY_AUTH_FAILED);
		directory_ntlm_free(&n);
	}
	directory_ntlm_free(&n); /* NULL is fine */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_vector),
		cmocka_unit_test_setup_teardown(test_exchange, setup, teardown),
		cmocka_unit_test_setup_teardown(test_throttle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
