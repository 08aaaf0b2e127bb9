/* make bench-convert: MIME import and export throughput on one core.
 *
 * Generates a corpus of typical mail (10,000 messages, 10 KB median,
 * multipart/alternative text + HTML bodies, a Received chain and the usual
 * headers, 10% carrying a 200 KB base64 attachment), then times
 * mime_to_message over all of it and message_to_mime over the results,
 * and prints one line:
 *   convert: import_msgs_per_s=N import_mb_per_s=N export_msgs_per_s=N */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "convert/convert.h"
#include "convert/mime.h"
#include "core/base64.h"
#include "core/buf.h"
#include "core/hm_time.h"
#include "core/pool.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double uniform(void)
{
	return (double)(next() >> 11) / 9007199254740992.0;
}

static const char *const words[] = {"meeting", "project", "report", "quarter", "budget",
	"review", "the", "and", "please", "find", "attached", "schedule", "customer", "update",
	"thanks", "regards", "tomorrow", "deadline", "proposal", "draft", "numbers", "team"};

static void words_to(struct buf *b, size_t bytes, bool html)
{
	size_t start = b->len, col = 0;
	while (b->len - start < bytes) {
		const char *w = words[next() % (sizeof(words) / sizeof(words[0]))];
		buf_append_str(b, w);
		col += strlen(w) + 1;
		if (col > 70) {
			buf_append_str(b, html ? "<br>\r\n" : "\r\n");
			col = 0;
		} else {
			buf_append_byte(b, ' ');
		}
	}
}

static void make_message(int i, struct buf *m)
{
	/* Log-normal sizes around a 10 KB median. */
	double z = sqrt(-2.0 * log(uniform() + 1e-12)) * cos(6.283185307179586 * uniform());
	size_t size = (size_t)(10240.0 * exp(0.6 * z));
	if (size < 1500)
		size = 1500;
	if (size > 150000)
		size = 150000;
	bool attach = (i % 10) == 0;
	buf_printf(m,
		"Received: from mx%d.example.net (mx%d.example.net [192.0.2.%d])\r\n"
		"\tby mail.example.com with ESMTPS id %08x; Tue, 3 Mar 2026 10:%02d:%02d +0000\r\n"
		"Received: from client.example.net by mx%d.example.net; Tue, 3 Mar 2026 10:00:00 +0000\r\n"
		"From: \"Sender %d\" <sender%d@example.net>\r\n"
		"To: \"Recipient\" <user@example.com>, other%d@example.com\r\n"
		"Cc: team@example.com\r\n"
		"Subject: RE: project update %d\r\n"
		"Date: Tue, 3 Mar 2026 09:%02d:%02d +0100\r\n"
		"Message-ID: <%d.%08x@example.net>\r\n"
		"In-Reply-To: <%d@example.net>\r\nReferences: <%d@example.net>\r\n"
		"MIME-Version: 1.0\r\n"
		"X-Mailer: bench\r\n",
		i % 7, i % 7, i % 250, (unsigned)next(), i % 60, (i * 7) % 60, i % 7, i, i, i, i,
		i % 60, (i * 3) % 60, i, (unsigned)next(), i - 1, i - 1);
	if (attach)
		buf_append_str(m, "Content-Type: multipart/mixed; boundary=\"mix\"\r\n\r\n--mix\r\n");
	buf_append_str(m, "Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n"
			  "--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
	words_to(m, size * 2 / 5, false);
	buf_append_str(m, "\r\n--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
			  "<html><body><p>");
	words_to(m, size / 2, true);
	buf_append_str(m, "</p></body></html>\r\n--alt--\r\n");
	if (attach) {
		size_t n = 200 * 1024;
		unsigned char *data = malloc(n);
		for (size_t k = 0; k < n; k++)
			data[k] = (unsigned char)next();
		struct buf b64;
		buf_init(&b64, NULL);
		base64_encode(data, n, &b64);
		free(data);
		buf_append_str(m, "--mix\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\n"
				  "Content-Disposition: attachment; filename=\"report.pdf\"\r\n"
				  "Content-Transfer-Encoding: base64\r\n\r\n");
		for (size_t k = 0; k < b64.len; k += 76) {
			buf_append(m, b64.data + k, b64.len - k < 76 ? b64.len - k : 76);
			buf_append_str(m, "\r\n");
		}
		buf_deinit(&b64);
		buf_append_str(m, "--mix--\r\n");
	}
}

int main(int argc, char **argv)
{
	int count = argc > 1 ? atoi(argv[1]) : 10000;
	if (count <= 0)
		count = 10000;
	convert_init();
	struct buf *msgs = calloc((size_t)count, sizeof(*msgs));
	size_t total = 0;
	for (int i = 0; i < count; i++) {
		buf_init(&msgs[i], NULL);
		make_message(i, &msgs[i]);
		total += msgs[i].len;
	}
	size_t *sizes = malloc((size_t)count * sizeof(*sizes));
	for (int i = 0; i < count; i++)
		sizes[i] = msgs[i].len;
	for (int i = 1; i < count; i++)
		for (int j = i; j > 0 && sizes[j - 1] > sizes[j]; j--) {
			size_t t = sizes[j];
			sizes[j] = sizes[j - 1];
			sizes[j - 1] = t;
		}

	/* Each message in its own pool, freed after use, as a delivery
	 * would. Times are this thread's CPU time (the machine is shared, so
	 * wall-clock time measures the neighbours too); wall time goes to
	 * stderr. */
	struct buf out;
	buf_init(&out, NULL);
	size_t out_total = 0;
	uint64_t imp_ns = 0, exp_ns = 0;
	uint64_t w0 = time_mono_us();
	for (int i = 0; i < count; i++) {
		const char *err;
		pool_t *pool = pool_new("bench", 0);
		struct mapi_message *obj;
		uint64_t c0 = cpu_ns();
		if (mime_to_message(pool, msgs[i].data, msgs[i].len, NULL, &obj, NULL, &err) < 0) {
			fprintf(stderr, "bench-convert: message %d: %s\n", i, err);
			return 1;
		}
		uint64_t c1 = cpu_ns();
		buf_reset(&out);
		if (message_to_mime(obj, NULL, &out, &err) < 0) {
			fprintf(stderr, "bench-convert: export %d: %s\n", i, err);
			return 1;
		}
		uint64_t c2 = cpu_ns();
		imp_ns += c1 - c0;
		exp_ns += c2 - c1;
		out_total += out.len;
		pool_free(&pool);
	}
	uint64_t w1 = time_mono_us();
	double imp_s = (double)imp_ns / 1e9, exp_s = (double)exp_ns / 1e9;
	fprintf(stderr, "bench-convert: %d messages, %.1f MB, median %zu bytes; CPU: import %.2f s, "
			"export %.2f s (%.1f MB out); wall %.2f s\n",
		count, (double)total / 1e6, sizes[count / 2], imp_s, exp_s, (double)out_total / 1e6,
		(double)(w1 - w0) / 1e6);
	printf("convert: import_msgs_per_s=%.0f import_mb_per_s=%.1f export_msgs_per_s=%.0f\n",
		count / imp_s, (double)total / 1e6 / imp_s, count / exp_s);
	for (int i = 0; i < count; i++)
		buf_deinit(&msgs[i]);
	buf_deinit(&out);
	free(msgs);
	free(sizes);
	convert_deinit();
	return 0;
}
