/* hermod serve: the daemon. Loads the configuration, prepares the data
 * directory and TLS, starts every service's listeners on the net runtime,
 * says where it listens, and runs until SIGTERM or SIGINT. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "cmd/cmd_directory.h"
#include "cmd/cmd_store.h"
#include "cmd/serve.h"
#include "directory/password.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "hermod_version.h"

/* Generated from hermod_services in meson.build. */
#include "serve_table.h"

int serve_listen(struct serve_ctx *sc, const char *section, const char *name, const char *label,
        const struct net_listener_config *tmpl, const char **error_r)
{
	const char *const *addrs = config_get_list(sc->cfg, section, name);
	for (size_t i = 0; addrs[i] != NULL; i++) {
		struct net_listener_config lc = *tmpl;
		lc.address = addrs[i];
		if (lc.implicit_tls || lc.tls == NULL)
			lc.tls = sc->tls;
		if (net_server_listen(sc->net, &lc, error_r) < 0)
			return -1;
		buf_printf(
		        &sc->listening, "%s%s %s", sc->listening.len ? ", " : "", label, addrs[i]);
	}
	return 0;
}

/* mkdir -p with mode 0750 for each created component. */
static int serve_mkdirs(const char *path, const char **error_r)
{
	char *p = xstrdup(path);
	for (char *s = p + 1;; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;
			*s = '\0';
			if (mkdir(p, 0750) < 0 && errno != EEXIST) {
				static __thread char msg[4500];
				snprintf(msg, sizeof(msg), "cannot create %s: %s", p,
				        strerror(errno));
				*error_r = msg;
				free(p);
				return -1;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	free(p);
	return 0;
}

/* One server per data directory: two would corrupt nothing (SQLite locks)
 * but would fight over ports and the queue. Returns the lock fd or -1. */
static int serve_lock_data_dir(const char *data_dir, const char **error_r)
{
	static __thread char msg[4500];
	char path[4096];
	if ((size_t)snprintf(path, sizeof(path), "%s/hermod.lock", data_dir) >= sizeof(path)) {
		*error_r = "data_dir is too long";
		return -1;
	}
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		snprintf(msg, sizeof(msg), "cannot open %s: %s", path, strerror(errno));
		*error_r = msg;
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		snprintf(msg, sizeof(msg), "another hermod serve is using %s (lock %s is held)",
		        data_dir, path);
		*error_r = msg;
		close(fd);
		return -1;
	}
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0 && write(fd, pid, (size_t)n) != n)
		log_warning(NULL, "cannot write pid to %s", path);
	return fd;
}

static SSL_CTX *serve_tls(struct serve_ctx *sc, const char **error_r)
{
	const char *cert = config_get_str(sc->cfg, "server", "tls_cert");
	const char *key = config_get_str(sc->cfg, "server", "tls_key");
	if ((cert == NULL) != (key == NULL)) {
		*error_r = "[server] tls_cert and tls_key must be set together";
		return NULL;
	}
	if (cert == NULL) {
		/* The embedded default: a self-signed certificate, made once. */
		const char *dir = pool_printf(sc->pool, "%s/tls", sc->cmd->data_dir);
		if (serve_mkdirs(dir, error_r) < 0)
			return NULL;
		cert = pool_printf(sc->pool, "%s/cert.pem", dir);
		key = pool_printf(sc->pool, "%s/key.pem", dir);
		if (net_tls_selfsigned_ensure(
		            cert, key, config_get_str(sc->cfg, "server", "hostname"), error_r) < 0)
			return NULL;
	}
	return net_tls_server_ctx(cert, key, error_r);
}

/* The embedded default's first start (ARCHITECTURE.md section 5): a
 * domain and a demo user whose password is printed once, so that a
 * newcomer can log in right away. Later starts only remind. */
static int serve_first_start(struct serve_ctx *sc, bool fresh, const char **error_r)
{
	const char *domain = config_get_str(sc->cfg, "server", "default_domain");
	const char *address = pool_printf(sc->pool, "demo@%s", domain);
	struct directory_user *user = NULL;
	if (!config_get_bool(sc->cfg, "server", "create_demo_user"))
		return 0;
	if (!fresh) {
		if (directory_user_get(sc->dir, address, sc->pool, &user, error_r) == 1)
			printf("  demo user: %s (its password was printed at first start; "
			       "'hermod user passwd %s' sets a new one)\n",
			        address, address);
		return 0;
	}
	if (directory_domain_exists(sc->dir, domain, error_r) == 0 &&
	        directory_domain_add(sc->dir, domain, error_r) < 0)
		return -1;
	char password[17];
	directory_password_generate(password, sizeof(password));
	struct directory_user_spec spec = {
	        .address = address,
	        .display_name = "Demo User",
	        .password = password,
	};
	if (directory_user_add(sc->dir, &spec, sc->pool, &user, error_r) < 0)
		return -1;
	if (cmd_mailbox_create(sc->cmd, user, error_r) < 0)
		return -1;
	log_info(NULL, "first start: created domain %s and user %s", domain, address);
	printf("  first start: created the domain %s and the user %s\n"
	       "  demo user:   %s   password: %s   (shown only now)\n",
	        domain, address, address, password);
	return 0;
}

static int cmd_serve_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	if (argc != 1)
		return cmd_usage(&cmd_serve);
	const struct config *cfg = ctx->cfg;
	const char *error;
	enum log_level level = log_get_level();
	if (log_open(config_get_str(cfg, "server", "log_file"), level, &error) < 0)
		return cmd_fail("%s", error);
	if (serve_mkdirs(ctx->data_dir, &error) < 0)
		return cmd_fail("%s", error);
	int lock_fd = serve_lock_data_dir(ctx->data_dir, &error);
	if (lock_fd < 0)
		return cmd_fail("%s", error);

	struct serve_ctx sc = {.cmd = ctx, .cfg = cfg, .pool = pool_new("serve", 0)};
	buf_init(&sc.listening, sc.pool);
	int rc = 1;
	size_t started = 0;

	char *db_path = pool_printf(sc.pool, "%s/%s", ctx->data_dir, DIRECTORY_DB_NAME);
	bool fresh = access(db_path, F_OK) < 0;
	sc.dir = cmd_directory_open(ctx);
	if (sc.dir == NULL)
		goto out;
	sc.throttle = cmd_directory_throttle_new(ctx);
	sc.store = cmd_store_open(ctx);
	if (sc.store == NULL)
		goto out;
	sc.tls = serve_tls(&sc, &error);
	if (sc.tls == NULL) {
		cmd_fail("TLS: %s", error);
		goto out;
	}
	struct net_server_config nc = {
	        .event_threads = (unsigned)config_get_int(cfg, "server", "event_threads"),
	        .worker_threads = (unsigned)config_get_int(cfg, "server", "worker_threads"),
	        .max_connections = (unsigned)config_get_int(cfg, "server", "max_connections"),
	        .max_conns_per_ip =
	                (unsigned)config_get_int(cfg, "server", "max_connections_per_ip"),
	        .output_high_water = (size_t)config_get_size(cfg, "server", "output_high_water"),
	        .shutdown_grace_ms =
	                (unsigned)(config_get_time(cfg, "server", "shutdown_grace") * 1000),
	};
	unsigned long fd_limit = 0;
	if (net_raise_fd_limit(&fd_limit) < 0 || fd_limit < nc.max_connections + 256UL)
		log_warning(NULL,
			"open-file limit %lu is low for max_connections = %u (each needs a descriptor, "
			"plus databases and files); raise it (ulimit -n / LimitNOFILE)",
			fd_limit, nc.max_connections);
	sc.net = net_server_new(&nc, &error);
	if (sc.net == NULL) {
		cmd_fail("%s", error);
		goto out;
	}
	for (; serve_services[started] != NULL; started++) {
		const struct serve_service *s = serve_services[started];
		if (s->start(&sc, &error) < 0) {
			cmd_fail("%s: %s", s->name, error);
			goto out;
		}
	}
	printf("hermod %s starting\n", HERMOD_VERSION);
	if (serve_first_start(&sc, fresh, &error) < 0) {
		cmd_fail("first start: %s", error);
		goto out;
	}
	log_info(NULL, "hermod ready (version %s, pid %ld, data in %s): listening on %s",
	        HERMOD_VERSION, (long)getpid(), ctx->data_dir,
	        sc.listening.len ? buf_cstr(&sc.listening) : "nothing yet");
	printf("hermod ready\n  data:      %s\n  listening: %s\n", ctx->data_dir,
	        sc.listening.len ? buf_cstr(&sc.listening) : "nothing yet");
	fflush(stdout);

	rc = net_server_run(sc.net, true) < 0 ? 1 : 0;
	log_info(NULL, "hermod stopped");
out:
	while (started > 0) {
		const struct serve_service *s = serve_services[--started];
		if (s->stop != NULL)
			s->stop(&sc);
	}
	net_server_free(&sc.net);
	if (sc.tls != NULL)
		SSL_CTX_free(sc.tls);
	directory_throttle_free(&sc.throttle);
	store_free(&sc.store);
	directory_close(&sc.dir);
	pool_free(&sc.pool);
	close(lock_fd);
	log_close();
	return rc;
}

const struct cmd cmd_serve = {"serve", "serve",
        "run the server in the foreground until SIGTERM or Ctrl-C", cmd_serve_run};
