/* TLS server contexts and the self-signed certificate of the embedded
 * default (ARCHITECTURE.md section 5), with OpenSSL 3. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/xalloc.h"
#include "net/net.h"

/* Ten years: a self-signed certificate is trusted by pinning, not by its
 * dates, and it should not expire under a running test installation. */
#define NET_SELFSIGNED_DAYS 3650

static const char *tls_error(const char *what, const char *file)
{
	static __thread char msg[512];
	char detail[256] = "";
	unsigned long err = ERR_peek_last_error();
	if (err != 0)
		ERR_error_string_n(err, detail, sizeof(detail));
	ERR_clear_error();
	if (file != NULL)
		snprintf(msg, sizeof(msg), "%s %s: %s", what, file, detail[0] ? detail : "failed");
	else
		snprintf(msg, sizeof(msg), "%s: %s", what, detail[0] ? detail : "failed");
	return msg;
}

SSL_CTX *net_tls_server_ctx(const char *cert_file, const char *key_file, const char **error_r)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		*error_r = tls_error("cannot create a TLS context", NULL);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* No client-initiated renegotiation (a CPU-exhaustion vector), the
	 * server's cipher order, no compression (CRIME). */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
			SSL_OP_NO_COMPRESSION);
	/* Idle connections give their 16 KiB record buffers back. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		*error_r = tls_error("cannot load certificate", cert_file);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
		*error_r = tls_error("cannot load private key", key_file);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		*error_r = tls_error("private key does not match the certificate", key_file);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static int tls_add_name(GENERAL_NAMES *names, const char *name)
{
	unsigned char ip[16];
	GENERAL_NAME *gn = GENERAL_NAME_new();
	if (gn == NULL)
		return -1;
	int len = 0;
	if (inet_pton(AF_INET, name, ip) == 1)
		len = 4;
	else if (inet_pton(AF_INET6, name, ip) == 1)
		len = 16;
	if (len > 0) {
		ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
		if (os == NULL || !ASN1_OCTET_STRING_set(os, ip, len)) {
			ASN1_OCTET_STRING_free(os);
			GENERAL_NAME_free(gn);
			return -1;
		}
		GENERAL_NAME_set0_value(gn, GEN_IPADD, os);
	} else {
		ASN1_IA5STRING *s = ASN1_IA5STRING_new();
		if (s == NULL || !ASN1_STRING_set(s, name, (int)strlen(name))) {
			ASN1_IA5STRING_free(s);
			GENERAL_NAME_free(gn);
			return -1;
		}
		GENERAL_NAME_set0_value(gn, GEN_DNS, s);
	}
	if (!sk_GENERAL_NAME_push(names, gn)) {
		GENERAL_NAME_free(gn);
		return -1;
	}
	return 0;
}

static int tls_add_ext(X509 *cert, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, v3, nid, value);
	if (ext == NULL)
		return -1;
	int ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

static X509 *tls_make_cert(EVP_PKEY *key, const char *hostname)
{
	X509 *cert = X509_new();
	GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
	BIGNUM *serial = BN_new();
	if (cert == NULL || names == NULL || serial == NULL)
		goto fail;
	X509_set_version(cert, X509_VERSION_3);
	/* A random positive 127-bit serial (RFC 5280 4.1.2.2: at most 20
	 * octets, unique per issuer). */
	if (!BN_rand(serial, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
		BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert)) == NULL)
		goto fail;
	/* An hour back, for clients whose clock is a little behind. */
	if (X509_gmtime_adj(X509_getm_notBefore(cert), -3600) == NULL ||
		X509_gmtime_adj(X509_getm_notAfter(cert), (long)NET_SELFSIGNED_DAYS * 86400) == NULL)
		goto fail;
	X509_NAME *name = X509_get_subject_name(cert);
	/* The CN is limited to 64 characters (RFC 5280 ub-common-name); the
	 * SAN carries the real name anyway (RFC 6125). */
	const char *cn = strlen(hostname) <= 64 ? hostname : "hermod";
	if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"hermod",
		    -1, -1, 0) ||
		!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
			-1, 0))
		goto fail;
	if (!X509_set_issuer_name(cert, name) || !X509_set_pubkey(cert, key))
		goto fail;

	const char *sans[] = {hostname, "localhost", "127.0.0.1", "::1"};
	for (size_t i = 0; i < sizeof(sans) / sizeof(sans[0]); i++) {
		bool dup = false;
		for (size_t j = 0; j < i; j++)
			dup = dup || strcmp(sans[i], sans[j]) == 0;
		if (!dup && tls_add_name(names, sans[i]) < 0)
			goto fail;
	}
	if (!X509_add1_ext_i2d(cert, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT))
		goto fail;
	X509V3_CTX v3;
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
	if (tls_add_ext(cert, &v3, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
		tls_add_ext(cert, &v3, NID_key_usage, "critical,digitalSignature") < 0 ||
		tls_add_ext(cert, &v3, NID_ext_key_usage, "serverAuth") < 0 ||
		tls_add_ext(cert, &v3, NID_subject_key_identifier, "hash") < 0)
		goto fail;
	if (X509_sign(cert, key, EVP_sha256()) == 0)
		goto fail;
	GENERAL_NAMES_free(names);
	BN_free(serial);
	return cert;
fail:
	GENERAL_NAMES_free(names);
	BN_free(serial);
	X509_free(cert);
	return NULL;
}

/* Writes a PEM file atomically: a temporary file in the same directory
 * with the final mode from the start, fsync, rename. */
static int tls_write_pem(const char *path, mode_t mode, EVP_PKEY *key, X509 *cert,
	const char **error_r)
{
	static __thread char msg[512];
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		snprintf(msg, sizeof(msg), "cannot create %s: %s", tmp, strerror(errno));
		*error_r = msg;
		free(tmp);
		return -1;
	}
	/* umask must not widen or narrow what we asked for. */
	(void)fchmod(fd, mode);
	FILE *f = fdopen(fd, "w");
	if (f == NULL) {
		snprintf(msg, sizeof(msg), "cannot write %s: %s", tmp, strerror(errno));
		*error_r = msg;
		close(fd);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	errno = 0;
	int ok = key != NULL ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) :
			       PEM_write_X509(f, cert);
	if (ok && fflush(f) != 0)
		ok = 0;
	if (ok && fsync(fileno(f)) != 0)
		ok = 0;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok || rename(tmp, path) != 0) {
		snprintf(msg, sizeof(msg), "cannot write %s: %s", path,
			errno ? strerror(errno) : "PEM encoding failed");
		*error_r = msg;
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

int net_tls_selfsigned_ensure(const char *cert_file, const char *key_file, const char *hostname,
	const char **error_r)
{
	if (access(cert_file, F_OK) == 0 && access(key_file, F_OK) == 0)
		return 0;
	if (hostname == NULL || hostname[0] == '\0')
		hostname = "localhost";
	/* ECDSA P-256: every TLS 1.2 client supports it, and handshakes cost
	 * a fraction of RSA-2048's. */
	EVP_PKEY *key = EVP_EC_gen("P-256");
	if (key == NULL) {
		*error_r = tls_error("cannot generate a key", NULL);
		return -1;
	}
	X509 *cert = tls_make_cert(key, hostname);
	if (cert == NULL) {
		*error_r = tls_error("cannot make a self-signed certificate", NULL);
		EVP_PKEY_free(key);
		return -1;
	}
	/* Only one of the two exists (or neither): remove it, so that a crash
	 * between the two renames below leaves one file at most, which the
	 * next start replaces, never a key and a certificate that do not
	 * match. */
	(void)unlink(cert_file);
	(void)unlink(key_file);
	int ret = tls_write_pem(key_file, 0600, key, NULL, error_r);
	if (ret == 0)
		ret = tls_write_pem(cert_file, 0644, NULL, cert, error_r);
	X509_free(cert);
	EVP_PKEY_free(key);
	return ret;
}
