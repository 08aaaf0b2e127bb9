/* hermod queue list|flush|delete: the outbound queue, for the
 * administrator. Works beside a running server (SQLite locking); a flush
 * is picked up by the server's queue runner within its poll interval. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/hm_time.h"
#include "core/pool.h"
#include "transport/queue.h"

static bool queue_exists(const struct cmd_ctx *ctx)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/queue/queue.db", ctx->data_dir);
	return access(path, F_OK) == 0;
}

static int queue_list(struct cmd_ctx *ctx)
{
	if (!queue_exists(ctx)) {
		printf("the queue is empty\n");
		return 0;
	}
	pool_t *pool = pool_new("queue", 0);
	struct transport_queue_entry *e;
	size_t n;
	const char *error;
	if (transport_queue_list(ctx->data_dir, pool, &e, &n, &error) < 0) {
		pool_free(&pool);
		return cmd_fail("%s", error);
	}
	if (n == 0)
		printf("the queue is empty\n");
	const char *last = "";
	for (size_t i = 0; i < n; i++) {
		char created[40], next[40];
		time_format_iso8601(e[i].created, -1, created);
		time_format_iso8601(e[i].next_attempt, -1, next);
		if (strcmp(last, e[i].id) != 0)
			printf("%s  %llu bytes  queued %s  from <%s>%s\n", e[i].id,
				(unsigned long long)e[i].size, created, e[i].mail_from,
				e[i].is_dsn ? "  (delivery status notification)" : "");
		printf("    to <%s>  attempts %u  next %s%s%s\n", e[i].rcpt, e[i].attempts,
			e[i].next_attempt <= time(NULL) ? "now" : next,
			e[i].last_error[0] ? "  last error: " : "", e[i].last_error);
		last = e[i].id;
	}
	pool_free(&pool);
	return 0;
}

static int cmd_queue_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	const char *error;
	if (argc == 2 && strcmp(argv[1], "list") == 0)
		return queue_list(ctx);
	if ((argc == 2 || argc == 3) && strcmp(argv[1], "flush") == 0) {
		if (!queue_exists(ctx)) {
			printf("the queue is empty\n");
			return 0;
		}
		long n = transport_queue_flush(ctx->data_dir, argc == 3 ? argv[2] : NULL, &error);
		if (n < 0)
			return cmd_fail("%s", error);
		if (argc == 3 && n == 0)
			return cmd_fail("no such message in the queue: %s", argv[2]);
		printf("%ld recipient%s due now\n", n, n == 1 ? "" : "s");
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "delete") == 0) {
		int r = queue_exists(ctx) ? transport_queue_delete(ctx->data_dir, argv[2], &error) : 0;
		if (r < 0)
			return cmd_fail("%s", error);
		if (r == 0)
			return cmd_fail("no such message in the queue: %s", argv[2]);
		printf("message %s deleted from the queue (no notification sent)\n", argv[2]);
		return 0;
	}
	return cmd_usage(&cmd_queue);
}

const struct cmd cmd_queue = {"queue",
	"queue list\n       queue flush [ID]\n       queue delete ID",
	"the outbound queue: list it, retry now, delete a message", cmd_queue_run};
