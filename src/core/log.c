#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/str.h"

/* Set at startup by log_open before threads exist; read-only afterwards
 * (log_set_level stores an int, which is atomic enough for a filter). */
static int log_fd = 2;
static volatile enum log_level log_min_level = LOG_LEVEL_INFO;

static const char *const log_level_names[] = {
	[LOG_LEVEL_DEBUG] = "debug",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_WARNING] = "warning",
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_FATAL] = "fatal",
	[LOG_LEVEL_PANIC] = "panic",
};

int log_open(const char *path, enum log_level min_level, const char **error_r)
{
	log_min_level = min_level;
	if (path == NULL || strcmp(path, "-") == 0) {
		log_close();
		return 0;
	}
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		static __thread char msg[512];
		snprintf(msg, sizeof(msg), "cannot open log file %s: %s", path, strerror(errno));
		*error_r = msg;
		return -1;
	}
	log_close();
	log_fd = fd;
	return 0;
}

void log_close(void)
{
	if (log_fd != 2)
		close(log_fd);
	log_fd = 2;
}

void log_set_level(enum log_level min_level)
{
	log_min_level = min_level;
}

enum log_level log_get_level(void)
{
	return log_min_level;
}

int log_level_parse(const char *name, enum log_level *level_r)
{
	for (int i = LOG_LEVEL_DEBUG; i <= LOG_LEVEL_ERROR; i++) {
		if (str_case_eq(name, log_level_names[i])) {
			*level_r = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void log_vmsg(const struct log_ctx *ctx, enum log_level level, const char *fmt, va_list ap)
{
	if (level < log_min_level)
		return;
	/* One line, one write(2): concurrent lines never interleave. */
	char line[4096];
	size_t n = 0;
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	gmtime_r(&tv.tv_sec, &tm);
	n += strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03dZ %s:", (int)(tv.tv_usec / 1000),
		log_level_names[level]);
	if (ctx != NULL) {
		if (ctx->session != NULL)
			n += (size_t)snprintf(line + n, sizeof(line) - n, " [%s]", ctx->session);
		if (ctx->peer != NULL && n < sizeof(line))
			n += (size_t)snprintf(line + n, sizeof(line) - n, " peer=%s", ctx->peer);
		if (ctx->user != NULL && n < sizeof(line))
			n += (size_t)snprintf(line + n, sizeof(line) - n, " user=%s", ctx->user);
		if (ctx->action != NULL && n < sizeof(line))
			n += (size_t)snprintf(line + n, sizeof(line) - n, " (%s)", ctx->action);
	}
	if (n < sizeof(line) - 1)
		line[n++] = ' ';
	if (n < sizeof(line)) {
		int m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		if (m > 0)
			n += (size_t)m;
	}
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	/* Control characters from peers must not forge log lines. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20 && line[i] != '\t')
			line[i] = '?';
	line[n++] = '\n';
	ssize_t w = write(log_fd, line, n);
	(void)w;
}

void log_msg(const struct log_ctx *ctx, enum log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(ctx, level, fmt, ap);
	va_end(ap);
}

void log_fatal(const struct log_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(ctx, LOG_LEVEL_FATAL, fmt, ap);
	va_end(ap);
	exit(1);
}

void log_panic(const struct log_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(ctx, LOG_LEVEL_PANIC, fmt, ap);
	va_end(ap);
	abort();
}
