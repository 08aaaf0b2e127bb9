/* A POP3 load generator for bench/pop3 (make bench-pop3): C, because a
 * Python client saturates a core before either server does.
 *
 *   pop3-load HOST PORT PREFIX DOMAIN USERS PASSWORD CLIENTS ROUNDS
 *
 * CLIENTS threads take sessions from a shared counter: USERS x ROUNDS
 * sessions, session i logs in as PREFIX<1 + i % USERS>@DOMAIN, LISTs,
 * RETRs every message (one command at a time, as a mail client does) and
 * QUITs. Prints one line:
 *   sessions=N msgs=N bytes=N secs=S msgs_per_s=R errors=N
 * and exits 1 if any session failed. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conf {
	struct sockaddr_in addr;
	const char *prefix, *domain, *password;
	unsigned users, sessions;
};

static struct conf cf;
static atomic_uint next_session;
static atomic_ullong total_msgs, total_bytes, total_errors;

struct conn {
	int fd;
	char buf[65536];
	size_t start, end;
};

/* Reads one line: its start (at most cap - 1 bytes, line end removed)
 * into line, its full length with the line end into *len_r. -1 on EOF or
 * error. */
static int read_line(struct conn *c, char *line, size_t cap, size_t *len_r)
{
	size_t n = 0, kept = 0;
	for (;;) {
		if (c->start == c->end) {
			ssize_t r = read(c->fd, c->buf, sizeof(c->buf));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return -1;
			c->start = 0;
			c->end = (size_t)r;
		}
		char *p = c->buf + c->start;
		char *nl = memchr(p, '\n', c->end - c->start);
		size_t take = nl != NULL ? (size_t)(nl - p) + 1 : c->end - c->start;
		if (kept < cap - 1) {
			size_t k = take < cap - 1 - kept ? take : cap - 1 - kept;
			memcpy(line + kept, p, k);
			kept += k;
		}
		n += take;
		c->start += take;
		if (nl != NULL)
			break;
	}
	while (kept > 0 && (line[kept - 1] == '\n' || line[kept - 1] == '\r'))
		kept--;
	line[kept] = '\0';
	*len_r = n;
	return 0;
}

static int send_all(int fd, const char *s)
{
	size_t len = strlen(s);
	while (len > 0) {
		ssize_t w = write(fd, s, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		len -= (size_t)w;
	}
	return 0;
}

static int command(struct conn *c, const char *cmd, char *reply, size_t cap)
{
	size_t n;
	if (send_all(c->fd, cmd) < 0 || read_line(c, reply, cap, &n) < 0)
		return -1;
	return strncmp(reply, "+OK", 3) == 0 ? 0 : -1;
}

/* Reads a multi-line body up to the "." line; bytes counted in *bytes_r
 * (line ends included, the terminator not). */
static int read_multi(struct conn *c, unsigned long long *bytes_r, unsigned *lines_r)
{
	char line[8];
	size_t n;
	unsigned long long bytes = 0;
	unsigned lines = 0;
	for (;;) {
		if (read_line(c, line, sizeof(line), &n) < 0)
			return -1;
		if (n == 3 && strcmp(line, ".") == 0)
			break;
		bytes += n;
		lines++;
	}
	if (bytes_r != NULL)
		*bytes_r = bytes;
	if (lines_r != NULL)
		*lines_r = lines;
	return 0;
}

static int session(unsigned user)
{
	struct conn *c = calloc(1, sizeof(*c));
	int rc = -1;
	char cmd[512], reply[512];
	size_t n;
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&cf.addr, sizeof(cf.addr)) < 0)
		goto out;
	if (read_line(c, reply, sizeof(reply), &n) < 0 || strncmp(reply, "+OK", 3) != 0)
		goto out;
	snprintf(cmd, sizeof(cmd), "USER %s%u@%s\r\n", cf.prefix, user, cf.domain);
	if (command(c, cmd, reply, sizeof(reply)) < 0)
		goto out;
	snprintf(cmd, sizeof(cmd), "PASS %s\r\n", cf.password);
	if (command(c, cmd, reply, sizeof(reply)) < 0) {
		fprintf(stderr, "login %u: %s\n", user, reply);
		goto out;
	}
	unsigned count;
	if (command(c, "LIST\r\n", reply, sizeof(reply)) < 0 || read_multi(c, NULL, &count) < 0)
		goto out;
	for (unsigned i = 1; i <= count; i++) {
		snprintf(cmd, sizeof(cmd), "RETR %u\r\n", i);
		unsigned long long bytes;
		if (command(c, cmd, reply, sizeof(reply)) < 0 || read_multi(c, &bytes, NULL) < 0)
			goto out;
		atomic_fetch_add(&total_msgs, 1);
		atomic_fetch_add(&total_bytes, bytes);
	}
	if (command(c, "QUIT\r\n", reply, sizeof(reply)) < 0)
		goto out;
	rc = 0;
out:
	close(c->fd);
	free(c);
	return rc;
}

static void *worker(void *arg)
{
	for (;;) {
		unsigned i = atomic_fetch_add(&next_session, 1);
		if (i >= cf.sessions)
			return NULL;
		if (session(1 + i % cf.users) < 0)
			atomic_fetch_add(&total_errors, 1);
	}
}

int main(int argc, char **argv)
{
	if (argc != 9) {
		fprintf(stderr, "usage: pop3-load HOST PORT PREFIX DOMAIN USERS PASSWORD CLIENTS "
				"ROUNDS\n");
		return 2;
	}
	cf.addr.sin_family = AF_INET;
	cf.addr.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &cf.addr.sin_addr) != 1)
		return 2;
	cf.prefix = argv[3];
	cf.domain = argv[4];
	cf.users = (unsigned)atoi(argv[5]);
	cf.password = argv[6];
	unsigned clients = (unsigned)atoi(argv[7]);
	cf.sessions = cf.users * (unsigned)atoi(argv[8]);
	pthread_t *t = calloc(clients, sizeof(*t));
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned i = 0; i < clients; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (unsigned i = 0; i < clients; i++)
		pthread_join(t[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	unsigned long long msgs = atomic_load(&total_msgs);
	printf("sessions=%u msgs=%llu bytes=%llu secs=%.3f msgs_per_s=%.0f errors=%llu\n",
		cf.sessions, msgs, (unsigned long long)atomic_load(&total_bytes), secs,
		(double)msgs / secs, (unsigned long long)atomic_load(&total_errors));
	free(t);
	return atomic_load(&total_errors) ? 1 : 0;
}
