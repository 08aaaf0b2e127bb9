/* Fuzzes the NTLM server: NEGOTIATE and AUTHENTICATE messages of any
 * shape against a directory with one NTLM user. Nothing may crash or
 * authenticate without the password. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "directory/ntlm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct directory *dir;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char tmpl[] = "/tmp/hermod-fuzz-ntlm-XXXXXX";
	if (mkdtemp(tmpl) == NULL)
		abort();
	char path[512];
	snprintf(path, sizeof(path), "%s/directory.db", tmpl);
	const struct directory_settings set = {.password_hash_cost = 1};
	const char *err;
	if (directory_open(path, &set, &dir, &err) < 0 ||
		directory_domain_add(dir, "example.com", &err) < 0)
		abort();
	struct directory_user_spec spec = {
		.address = "alice@example.com", .password = "Wonderland-1", .nt_hash = true};
	if (directory_user_add(dir, &spec, NULL, NULL, &err) < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size > DIRECTORY_NTLM_MESSAGE_MAX)
		return 0;
	size_t split = (size_t)data[0] * 4 % (size - 1) + 1;
	pool_t *pool = pool_new("fuzz", 0);
	struct directory_ntlm *n = directory_ntlm_new("mail.example.com");
	struct buf out;
	buf_init(&out, pool);
	const char *err = NULL;
	static const uint8_t neg[16] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0, 1, 0, 0, 0, 1, 0, 0, 0};
	/* Either the fuzzer's NEGOTIATE, or a valid one so AUTHENTICATE is
	 * reached. */
	int r = (data[1] & 1) ? directory_ntlm_challenge(n, data + 1, split, &out, &err)
			      : directory_ntlm_challenge(n, neg, sizeof(neg), &out, &err);
	if (r == 0) {
		struct directory_user *u = NULL;
		const char *who = NULL;
		enum directory_auth_result a = directory_ntlm_authenticate(n, dir, NULL, NULL,
			data + split, size - split, pool, &u, &who, &err);
		/* The server challenge is random: a fuzzer cannot know it. */
		if (a == DIRECTORY_AUTH_OK)
			abort();
	}
	directory_ntlm_free(&n);
	pool_free(&pool);
	return 0;
}
