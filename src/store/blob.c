/* The blob store: immutable values named by their SHA-256, shared by every
 * mailbox of the data directory (one copy of a message delivered to many
 * local recipients).
 *
 * Layout: blobs/ab/cd/<64 hex digits>, temporary files in blobs/tmp/.
 * A committed row never names a blob that a crash lost:
 * - the writer renames its temporary file into place and fsyncs it on its
 *   own thread (writers sync in parallel; a commit waits for no other
 *   session's blob), before it returns the reference;
 * - where the filesystem needs it (store_blob_fs_orders_entries), the
 *   directories with new entries are synced before the next commit
 *   (store_blob_sync; one syncfs for many);
 * - a writer that finds its blob already there while another writer of
 *   the same content is between its rename and its fsync (the "in
 *   flight" set) fsyncs the file itself.
 * An existing file of the wrong size (a blob torn by a power failure
 * before any commit referenced it) is written again.
 *
 * Garbage collection (store_blob_gc) is mark and sweep with a grace
 * period, safe against concurrent writers in this process or another:
 * - whoever is about to reference a blob first "puts" or "pins" it, which
 *   sets its mtime to now, and commits the reference within the grace
 *   period (transactions last milliseconds; the grace period is a day);
 * - the GC notes T0, reads every mailbox's blob_refs (mark), then for each
 *   unmarked blob whose mtime is older than T0 - grace, renames it to a
 *   trash name, checks the mtime again on the renamed file (a pin that
 *   raced in between shows) and only then unlinks it, or renames it back.
 * A reference committed after the mark was pinned after T0 - grace, so
 * its blob's mtime protects it; a pin that finds the file renamed away
 * gets ENOENT and the writer writes the blob again. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "core/hex.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "store/store_int.h"

/* "ab/cd/<64 hex digits>": the path below blob_dir. */
#define BLOB_REL_LEN (2 + 1 + 2 + 1 + 64)
static void blob_rel_path(const uint8_t sha[32], char out[BLOB_REL_LEN + 1])
{
	static const char hx[] = "0123456789abcdef";
	char *h = out + 6;
	for (int i = 0; i < 32; i++) {
		h[2 * i] = hx[sha[i] >> 4];
		h[2 * i + 1] = hx[sha[i] & 15];
	}
	h[64] = '\0';
	out[0] = h[0], out[1] = h[1], out[2] = '/';
	out[3] = h[2], out[4] = h[3], out[5] = '/';
}

void store_blob_path(struct store *store, const uint8_t sha[32], char *out, size_t outlen)
{
	char rel[BLOB_REL_LEN + 1];
	blob_rel_path(sha, rel);
	snprintf(out, outlen, "%s/%s", store->blob_dir, rel);
}

/* fsync of a file or directory named relative to the blob directory. */
static int fsync_rel(struct store *store, const char *rel, bool is_dir)
{
	int fd = openat(store->blob_dir_fd, rel, O_RDONLY | O_CLOEXEC | (is_dir ? O_DIRECTORY : 0));
	if (fd < 0)
		return -1;
	int r = fsync(fd);
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

static void pending_add(struct store *store, const char *rel);

bool store_blob_fs_orders_entries(const char *path)
{
	/* POSIX makes a new name durable only with an fsync of its directory.
	 * These Linux filesystems do it with the file's fsync: ext4 (and ext2
	 * and ext3, served by the ext4 driver) commits the journal transaction
	 * holding the entry, or syncs new parents itself without a journal;
	 * XFS forces its log past the entry; Btrfs logs the inode's new names
	 * and commits for new directories. Anything else (NFS, FUSE, tmpfs,
	 * ...) gets the directory fsyncs. */
	struct statfs sf;
	if (statfs(path, &sf) < 0)
		return false;
	switch ((unsigned long)sf.f_type) {
	case 0xEF53UL:     /* EXT4_SUPER_MAGIC */
	case 0x58465342UL: /* XFS_SUPER_MAGIC */
	case 0x9123683EUL: /* BTRFS_SUPER_MAGIC */
		return true;
	default:
		return false;
	}
}

/* mkdir (relative) whose new entry in parent is synced with the next
 * commit. */
static int mkdir_pending(struct store *store, const char *rel, const char *parent)
{
	if (mkdirat(store->blob_dir_fd, rel, 0750) == 0) {
		if (store->blob_sync_dirs)
			pending_add(store, parent);
		return 0;
	}
	return errno == EEXIST ? 0 : -1;
}

/* Creates ab/ and ab/cd/ for a blob's relative path. */
static int blob_dirs(struct store *store, const char *rel)
{
	char d1[3], d2[6];
	memcpy(d1, rel, 2);
	d1[2] = '\0';
	memcpy(d2, rel, 5);
	d2[5] = '\0';
	if (mkdir_pending(store, d1, ".") < 0)
		return -1;
	return mkdir_pending(store, d2, d1);
}

static uint32_t errno_ec(int e)
{
	if (e == ENOSPC || e == EDQUOT)
		return ecNotEnoughDisk;
	if (e == ENOENT)
		return ecNotFound;
	return ecError;
}

/* Refreshes an existing blob's time stamp (rel: its relative path);
 * false if there is none of that size. */
static bool blob_touch(struct store *store, const char *rel, uint64_t size)
{
	struct stat sb;
	if (fstatat(store->blob_dir_fd, rel, &sb, 0) < 0)
		return false;
	if ((uint64_t)sb.st_size != size) {
		errno = ENOENT;
		return false;
	}
	return utimensat(store->blob_dir_fd, rel, NULL, 0) == 0;
}

/* Directories with new entries not yet known to be on disk (relative to
 * the blob directory; only where the filesystem needs directory
 * fsyncs). */
static void pending_add(struct store *store, const char *rel)
{
	char *e = xstrdup(rel);
	pthread_mutex_lock(&store->blob_lock);
	array_push(&store->blob_pending, e);
	pthread_mutex_unlock(&store->blob_lock);
}

/* fsync of each directory. 0 or an error code. */
static uint32_t blob_sync_paths(struct store *store, char **paths, size_t n)
{
	if (n > 8) {
		/* Many files: one filesystem sync is cheaper than n fsyncs. */
		uint32_t ec = ecSuccess;
		int fd = open(store->blob_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || syncfs(fd) < 0) {
			log_error(NULL, "store: blob: syncfs: %s", strerror(errno));
			ec = errno_ec(errno);
		}
		if (fd >= 0)
			close(fd);
		return ec;
	}
	for (size_t i = 0; i < n; i++) {
		if (fsync_rel(store, paths[i], true) < 0) {
			log_error(NULL, "store: blob: fsync %s/%s: %s", store->blob_dir, paths[i],
				strerror(errno));
			return errno_ec(errno);
		}
	}
	return ecSuccess;
}

uint32_t store_blob_sync(struct store *store)
{
	/* Syncs run one at a time, and a commit waits for the one in
	 * progress, which may cover a blob the commit references. The list
	 * is taken whole and synced outside blob_lock: writers adding to it
	 * never wait for a disk flush, and the commits that queue up behind
	 * a sync share the next one (group commit for blobs). */
	pthread_mutex_lock(&store->blob_sync_lock);
	pthread_mutex_lock(&store->blob_lock);
	size_t n = store->blob_pending.n;
	char **paths = NULL;
	if (n > 0) {
		paths = xmalloc(n * sizeof(*paths));
		memcpy(paths, store->blob_pending.v, n * sizeof(*paths));
		array_clear(&store->blob_pending);
	}
	pthread_mutex_unlock(&store->blob_lock);
	uint32_t ec = n > 0 ? blob_sync_paths(store, paths, n) : ecSuccess;
	if (ec == ecSuccess) {
		for (size_t i = 0; i < n; i++)
			free(paths[i]);
	} else {
		/* Still not known to be on disk: the next sync tries again. */
		pthread_mutex_lock(&store->blob_lock);
		for (size_t i = 0; i < n; i++)
			array_push(&store->blob_pending, paths[i]);
		pthread_mutex_unlock(&store->blob_lock);
	}
	free(paths);
	pthread_mutex_unlock(&store->blob_sync_lock);
	return ec;
}

/* Blobs renamed into place whose writer has not fsynced them yet: name ->
 * number of such writers (1 but for filesystems without
 * RENAME_NOREPLACE). */
static void inflight_begin(struct store *store, const char *rel)
{
	pthread_mutex_lock(&store->blob_lock);
	uintptr_t n = (uintptr_t)hash_get(store->blob_inflight, rel, BLOB_REL_LEN, NULL);
	hash_put(store->blob_inflight, rel, BLOB_REL_LEN, (void *)(n + 1), NULL);
	pthread_mutex_unlock(&store->blob_lock);
}

static void inflight_end(struct store *store, const char *rel)
{
	pthread_mutex_lock(&store->blob_lock);
	uintptr_t n = (uintptr_t)hash_get(store->blob_inflight, rel, BLOB_REL_LEN, NULL);
	if (n > 1)
		hash_put(store->blob_inflight, rel, BLOB_REL_LEN, (void *)(n - 1), NULL);
	else
		hash_del(store->blob_inflight, rel, BLOB_REL_LEN, NULL);
	pthread_mutex_unlock(&store->blob_lock);
}

/* An existing blob about to be referenced: durable already unless a
 * writer is between its rename and its fsync; then synced here. */
static uint32_t blob_synced(struct store *store, const char *rel)
{
	pthread_mutex_lock(&store->blob_lock);
	bool busy = hash_get(store->blob_inflight, rel, BLOB_REL_LEN, NULL) != NULL;
	pthread_mutex_unlock(&store->blob_lock);
	if (busy && fsync_rel(store, rel, false) < 0) {
		log_error(NULL, "store: blob: fsync %s/%s: %s", store->blob_dir, rel, strerror(errno));
		return errno_ec(errno);
	}
	return ecSuccess;
}

/* After losing a rename race: the winner's file, refreshed and synced. */
static uint32_t blob_existing(struct store *store, const char *rel, uint64_t size)
{
	if (!blob_touch(store, rel, size))
		return errno_ec(errno);
	return blob_synced(store, rel);
}

/* Renames tmp to rel unless rel exists (EEXIST). */
static int rename_new(int dirfd, const char *tmp, const char *rel)
{
	int r = renameat2(dirfd, tmp, dirfd, rel, RENAME_NOREPLACE);
	if (r < 0 && errno == EINVAL)
		r = renameat(dirfd, tmp, dirfd, rel); /* no RENAME_NOREPLACE here */
	return r;
}

struct store_blob_writer {
	struct store *store;
	int fd;
	char tmp[64]; /* relative to the blob directory: tmp/... */
	EVP_MD_CTX *md;
	uint64_t size;
};

struct store_blob_writer *store_blob_writer_new(struct store *store, const char **error_r)
{
	struct store_blob_writer *w = xcalloc(1, sizeof(*w));
	w->store = store;
	uint64_t seq = atomic_fetch_add(&store->tmp_seq, 1);
	snprintf(w->tmp, sizeof(w->tmp), "tmp/%ld-%llu.tmp", (long)getpid(),
		(unsigned long long)seq);
	w->fd = openat(store->blob_dir_fd, w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (w->fd < 0) {
		if (error_r != NULL)
			*error_r = strerror(errno);
		log_error(NULL, "store: blob: %s/%s: %s", store->blob_dir, w->tmp, strerror(errno));
		free(w);
		return NULL;
	}
	w->md = EVP_MD_CTX_new();
	if (w->md == NULL || EVP_DigestInit_ex(w->md, EVP_sha256(), NULL) != 1)
		log_panic(NULL, "store: blob: SHA-256 unavailable");
	return w;
}

uint32_t store_blob_writer_write(struct store_blob_writer *w, const void *p, size_t n)
{
	const uint8_t *b = p;
	EVP_DigestUpdate(w->md, p, n);
	while (n > 0) {
		ssize_t r = write(w->fd, b, n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			log_error(NULL, "store: blob: write %s/%s: %s", w->store->blob_dir, w->tmp,
				strerror(errno));
			return errno_ec(errno);
		}
		b += r;
		n -= (size_t)r;
		w->size += (uint64_t)r;
	}
	return ecSuccess;
}

uint64_t store_blob_writer_size(const struct store_blob_writer *w)
{
	return w->size;
}

void store_blob_writer_abort(struct store_blob_writer **wp)
{
	struct store_blob_writer *w = *wp;
	if (w == NULL)
		return;
	*wp = NULL;
	close(w->fd);
	unlinkat(w->store->blob_dir_fd, w->tmp, 0);
	EVP_MD_CTX_free(w->md);
	free(w);
}

uint32_t store_blob_writer_finish(struct store_blob_writer **wp, struct store_blob_ref *ref_r)
{
	struct store_blob_writer *w = *wp;
	unsigned int mdlen = 0;
	EVP_DigestFinal_ex(w->md, ref_r->sha256, &mdlen);
	ref_r->size = w->size;
	struct store *store = w->store;
	char rel[BLOB_REL_LEN + 1];
	blob_rel_path(ref_r->sha256, rel);
	/* Same content already stored: refresh its time stamp and drop ours. */
	if (blob_touch(store, rel, w->size)) {
		store_blob_writer_abort(wp);
		return blob_synced(store, rel);
	}
	uint32_t ec = ecSuccess;
	inflight_begin(store, rel);
	/* The directories exist for most blobs: made only when missing. */
	int fd = store->blob_dir_fd;
	int r = rename_new(fd, w->tmp, rel);
	if (r < 0 && errno == ENOENT && blob_dirs(store, rel) == 0)
		r = rename_new(fd, w->tmp, rel);
	if (r < 0 && errno == EEXIST) {
		/* Another writer of the same content got there first: its file
		 * stays (one inode under the name, so its fsync counts). */
		inflight_end(store, rel);
		close(w->fd);
		unlinkat(fd, w->tmp, 0);
		EVP_MD_CTX_free(w->md);
		free(w);
		*wp = NULL;
		return blob_existing(store, rel, ref_r->size);
	}
	if (r < 0) {
		log_error(NULL, "store: blob: storing %s/%s: %s", store->blob_dir, rel, strerror(errno));
		ec = errno_ec(errno);
	} else {
		w->tmp[0] = '\0'; /* nothing left to unlink */
		/* After the rename: where entries need no directory fsync, the
		 * file's covers its new name too. */
		if (fsync(w->fd) < 0) {
			log_error(NULL, "store: blob: fsync %s/%s: %s", store->blob_dir, rel, strerror(errno));
			ec = errno_ec(errno);
		} else if (store->blob_sync_dirs) {
			char dir[6];
			snprintf(dir, sizeof(dir), "%.5s", rel);
			pending_add(store, dir);
		}
	}
	inflight_end(store, rel);
	close(w->fd);
	if (w->tmp[0] != '\0')
		unlinkat(fd, w->tmp, 0);
	EVP_MD_CTX_free(w->md);
	free(w);
	*wp = NULL;
	return ec;
}

uint32_t store_blob_put(struct store *store, const void *data, size_t len,
	struct store_blob_ref *ref_r)
{
	/* Hash first: when the blob exists (every recipient after the first)
	 * nothing is written. */
	unsigned int mdlen = 0;
	EVP_Digest(data, len, ref_r->sha256, &mdlen, EVP_sha256(), NULL);
	ref_r->size = len;
	char rel[BLOB_REL_LEN + 1];
	blob_rel_path(ref_r->sha256, rel);
	if (blob_touch(store, rel, len))
		return blob_synced(store, rel);
	struct store_blob_writer *w = store_blob_writer_new(store, NULL);
	if (w == NULL)
		return ecError;
	uint32_t ec = store_blob_writer_write(w, data, len);
	if (ec != ecSuccess) {
		store_blob_writer_abort(&w);
		return ec;
	}
	return store_blob_writer_finish(&w, ref_r);
}

uint32_t store_blob_pin(struct store *store, const struct store_blob_ref *ref)
{
	char rel[BLOB_REL_LEN + 1];
	blob_rel_path(ref->sha256, rel);
	if (blob_touch(store, rel, ref->size))
		return blob_synced(store, rel);
	int e = errno;
	if (e != ENOENT)
		log_error(NULL, "store: blob %s/%s: %s", store->blob_dir, rel, strerror(e));
	return errno_ec(e);
}

uint32_t store_blob_open_fd(struct store *store, const struct store_blob_ref *ref, int *fd_r)
{
	/* Relative to the blob directory: the kernel walks three names
	 * instead of the whole data directory path (a full-message FETCH
	 * opens one blob per message). */
	char rel[BLOB_REL_LEN + 1];
	blob_rel_path(ref->sha256, rel);
	int fd = openat(store->blob_dir_fd, rel, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno_ec(errno);
	*fd_r = fd;
	return ecSuccess;
}

uint32_t store_blob_read(struct store *store, const struct store_blob_ref *ref, uint64_t offset,
	size_t len, struct buf *out)
{
	int fd;
	uint32_t ec = store_blob_open_fd(store, ref, &fd);
	if (ec != ecSuccess)
		return ec;
	if (offset >= ref->size)
		len = 0;
	else if (len > ref->size - offset)
		len = (size_t)(ref->size - offset);
	unsigned char *dst = buf_append_space(out, len);
	size_t got = 0;
	while (got < len) {
		ssize_t r = pread(fd, dst + got, len - got, (off_t)(offset + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			ec = r < 0 ? errno_ec(errno) : ecCorruptData;
			break;
		}
		got += (size_t)r;
	}
	close(fd);
	if (ec != ecSuccess)
		buf_truncate(out, out->len - len);
	return ec;
}

uint32_t store_blob_load(struct store *store, uint32_t tag, const struct store_blob_ref *ref,
	pool_t *pool, union mapi_pvalue *v)
{
	struct buf b;
	buf_init(&b, pool);
	uint32_t ec = store_blob_read(store, ref, 0, (size_t)ref->size, &b);
	if (ec != ecSuccess)
		return ec;
	/* Blob-stored values are the raw bytes of a binary value or the
	 * UTF-8 of a string. */
	switch (PROP_TYPE(tag)) {
	case PT_UNICODE:
	case PT_STRING8:
		v->str = (char *)b.data;
		if (v->str == NULL)
			v->str = pool_strdup(pool, "");
		return ecSuccess;
	case PT_BINARY:
	case PT_OBJECT:
	case PT_SVREID:
		v->bin.cb = (uint32_t)b.len;
		v->bin.pb = b.data;
		return ecSuccess;
	default:
		return store_value_decode(tag, b.data, b.len, pool, v);
	}
}

/* --- Garbage collection --- */

static int sha_from_hex(const char *name, uint8_t sha[32])
{
	if (strlen(name) != 64)
		return -1;
	for (int i = 0; i < 32; i++) {
		int hi = hex_digit((unsigned char)name[2 * i]);
		int lo = hex_digit((unsigned char)name[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		sha[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int mark_mailbox(const char *path, struct hash *marked, const char **error_r)
{
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		*error_r = "cannot open a mailbox";
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, 10000);
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "SELECT sha FROM blob_refs", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (sqlite3_column_bytes(st, 0) == 32)
				hash_put(marked, sqlite3_column_blob(st, 0), 32, (void *)1, NULL);
		}
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (rc != SQLITE_DONE) {
		log_error(NULL, "store: blob gc: %s: cannot read references: %s", path,
			sqlite3_errstr(rc));
		*error_r = "cannot read a mailbox's blob references";
		return -1;
	}
	return 0;
}

long store_blob_gc(struct store *store, int64_t grace_seconds, const char **error_r)
{
	time_t t0 = time(NULL);
	time_t limit = t0 - grace_seconds;
	struct hash *marked = hash_new(1024);
	long removed = 0;

	/* Mark: every mailbox database, including ones created meanwhile
	 * (their references are younger than the grace period anyway). */
	DIR *d = opendir(store->mbox_dir);
	if (d == NULL) {
		*error_r = "cannot read the mailbox directory";
		hash_free(&marked);
		return -1;
	}
	struct dirent *de;
	int fail = 0;
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		if (n < 4 || strcmp(de->d_name + n - 3, ".db") != 0)
			continue;
		char path[4096];
		if (snprintf(path, sizeof(path), "%s/%s", store->mbox_dir, de->d_name) >=
			(int)sizeof(path))
			continue;
		if (mark_mailbox(path, marked, error_r) < 0) {
			fail = 1;
			break;
		}
	}
	closedir(d);
	if (fail) {
		/* Without a complete mark nothing may be swept. */
		hash_free(&marked);
		return -1;
	}

	/* Sweep. */
	DIR *d1 = opendir(store->blob_dir);
	if (d1 == NULL) {
		hash_free(&marked);
		*error_r = "cannot read the blob directory";
		return -1;
	}
	struct dirent *e1;
	while ((e1 = readdir(d1)) != NULL) {
		if (strlen(e1->d_name) != 2 || hex_digit(e1->d_name[0]) < 0 ||
			hex_digit(e1->d_name[1]) < 0)
			continue;
		char p1[4096];
		if (snprintf(p1, sizeof(p1), "%s/%s", store->blob_dir, e1->d_name) >= (int)sizeof(p1))
			continue;
		DIR *d2 = opendir(p1);
		if (d2 == NULL)
			continue;
		struct dirent *e2;
		while ((e2 = readdir(d2)) != NULL) {
			if (strlen(e2->d_name) != 2)
				continue;
			char p2[4096];
			if (snprintf(p2, sizeof(p2), "%s/%s", p1, e2->d_name) >= (int)sizeof(p2))
				continue;
			DIR *d3 = opendir(p2);
			if (d3 == NULL)
				continue;
			struct dirent *e3;
			while ((e3 = readdir(d3)) != NULL) {
				uint8_t sha[32];
				if (sha_from_hex(e3->d_name, sha) < 0)
					continue;
				if (hash_get(marked, sha, 32, NULL) != NULL)
					continue;
				char path[4096], trash[4096];
				if (snprintf(path, sizeof(path), "%s/%s", p2, e3->d_name) >=
					(int)sizeof(path))
					continue;
				struct stat sb;
				if (stat(path, &sb) < 0 || sb.st_mtime >= limit)
					continue;
				if (snprintf(trash, sizeof(trash), "%s/gc-%s", store->blob_tmp_dir,
					    e3->d_name) >= (int)sizeof(trash))
					continue;
				if (rename(path, trash) < 0)
					continue;
				if (stat(trash, &sb) == 0 && sb.st_mtime < limit) {
					unlink(trash);
					removed++;
				} else if (link(trash, path) == 0 || errno == EEXIST) {
					/* Pinned meanwhile: put it back (or a writer
					 * already wrote it again). */
					unlink(trash);
				}
			}
			closedir(d3);
		}
		closedir(d2);
	}
	closedir(d1);
	hash_free(&marked);

	/* Temporary files of writers that died. */
	DIR *dt = opendir(store->blob_tmp_dir);
	if (dt != NULL) {
		struct dirent *et;
		while ((et = readdir(dt)) != NULL) {
			if (et->d_name[0] == '.')
				continue;
			char path[4096];
			if (snprintf(path, sizeof(path), "%s/%s", store->blob_tmp_dir, et->d_name) >=
				(int)sizeof(path))
				continue;
			struct stat sb;
			if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_mtime < limit)
				unlink(path);
		}
		closedir(dt);
	}
	return removed;
}
