/* RFC 5256 base subjects and threading (thread.h). Every walk over a
 * thread tree is iterative: a chain of replies can be as deep as the
 * mailbox is large. */
#include <stdlib.h>
#include <string.h>

#include "core/array.h"
#include "core/hash.h"
#include "core/str.h"
#include "proto/imap/thread.h"

/* --- Base subject (RFC 5256 2.1) --- */

/* subj-blob = "[" *BLOBCHAR "]" *WSP: its length at p, or 0. */
static size_t blob_len(const char *p, size_t len)
{
	if (len == 0 || p[0] != '[')
		return 0;
	size_t i = 1;
	while (i < len && p[i] != '[' && p[i] != ']')
		i++;
	if (i >= len || p[i] != ']')
		return 0;
	i++;
	while (i < len && p[i] == ' ')
		i++;
	return i;
}

/* subj-leader = (*subj-blob subj-refwd) / WSP, with
 * subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":". Its length at
 * p, or 0; *refwd_r when a subj-refwd was part of it. */
static size_t leader_len(const char *p, size_t len, bool *refwd_r)
{
	size_t i = 0, b;
	while ((b = blob_len(p + i, len - i)) > 0)
		i += b;
	size_t j = i;
	if (len - j >= 2 && str_ncasecmp(p + j, "re", 2) == 0) {
		j += 2;
	} else if (len - j >= 2 && str_ncasecmp(p + j, "fw", 2) == 0) {
		j += 2;
		if (j < len && (p[j] == 'd' || p[j] == 'D'))
			j++;
	} else {
		goto wsp;
	}
	while (j < len && p[j] == ' ')
		j++;
	j += blob_len(p + j, len - j);
	if (j < len && p[j] == ':') {
		*refwd_r = true;
		return j + 1;
	}
wsp:
	return len > 0 && p[0] == ' ' ? 1 : 0;
}

char *imap_base_subject(pool_t *pool, const char *subject, bool *reply_r)
{
	if (subject == NULL)
		subject = "";
	/* (1) Tabs and line breaks become spaces, runs of spaces one. The
	 * subject is already decoded from RFC 2047. */
	size_t n = strlen(subject), len = 0;
	char *s = pool_alloc(pool, n + 1);
	for (size_t i = 0; i < n; i++) {
		char c = subject[i];
		if (c == '\t' || c == '\r' || c == '\n')
			c = ' ';
		if (c == ' ' && len > 0 && s[len - 1] == ' ')
			continue;
		s[len++] = c;
	}
	const char *p = s;
	bool reply = false;
	for (;;) {
		/* (2) subj-trailer = "(fwd)" / WSP, from the end. */
		for (;;) {
			if (len > 0 && p[len - 1] == ' ') {
				len--;
			} else if (len >= 5 && str_ncasecmp(p + len - 5, "(fwd)", 5) == 0) {
				len -= 5;
				reply = true;
			} else {
				break;
			}
		}
		/* (3)-(5) leaders, and blobs that leave a non-empty base. */
		for (;;) {
			bool refwd = false;
			size_t l = leader_len(p, len, &refwd);
			if (l > 0) {
				p += l;
				len -= l;
				reply |= refwd;
				continue;
			}
			size_t b = blob_len(p, len);
			if (b > 0 && b < len) {
				p += b;
				len -= b;
				continue;
			}
			break;
		}
		/* (6) "[fwd:" subject "]" */
		if (len >= 6 && str_ncasecmp(p, "[fwd:", 5) == 0 && p[len - 1] == ']') {
			p += 5;
			len -= 6;
			reply = true;
			continue;
		}
		break;
	}
	if (reply_r != NULL)
		*reply_r = reply;
	return pool_strndup(pool, p, len);
}

int imap_ascii_casemap_cmp(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
	for (;; x++, y++) {
		int c = ascii_toupper(*x), d = ascii_toupper(*y);
		if (c != d || c == 0)
			return c - d;
	}
}

/* --- The thread tree --- */

struct tnode {
	const struct imap_thread_msg *msg; /* NULL: a dummy */
	struct tnode *parent, *child, *next;
	uint64_t date; /* sort key; a dummy's is its first child's */
	uint32_t seq;
	size_t top; /* index among the root's children (step 5) */
};

static struct tnode *node_new(pool_t *pool, const struct imap_thread_msg *m)
{
	struct tnode *t = pool_alloc(pool, sizeof(*t));
	t->msg = m;
	if (m != NULL) {
		t->date = m->date;
		t->seq = m->seq;
	}
	return t;
}

static void node_unlink(struct tnode *c)
{
	if (c->parent == NULL)
		return;
	struct tnode **pp = &c->parent->child;
	while (*pp != NULL && *pp != c)
		pp = &(*pp)->next;
	if (*pp == c)
		*pp = c->next;
	c->parent = NULL;
	c->next = NULL;
}

static void node_link(struct tnode *parent, struct tnode *c)
{
	c->parent = parent;
	c->next = parent->child;
	parent->child = c;
}

/* Would making a the parent of b create a loop (a is b or below it)? */
static bool would_loop(const struct tnode *a, const struct tnode *b)
{
	/* Without children b is nobody's ancestor: the usual case (a new
	 * message), and it keeps a long chain from costing its depth per
	 * link. */
	if (b->child == NULL)
		return a == b;
	for (const struct tnode *x = a; x != NULL; x = x->parent)
		if (x == b)
			return true;
	return false;
}

static int node_cmp(const void *x, const void *y)
{
	const struct tnode *a = *(struct tnode *const *)x, *b = *(struct tnode *const *)y;
	if (a->date != b->date)
		return a->date < b->date ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Sorts t's children by (date, seq); a dummy takes its first child's
 * keys. The children's own children must be sorted already. */
static void sort_children(pool_t *pool, struct tnode *t)
{
	size_t n = 0;
	for (struct tnode *c = t->child; c != NULL; c = c->next)
		n++;
	if (n > 1) {
		struct tnode **v = pool_calloc(pool, n, sizeof(*v));
		size_t i = 0;
		for (struct tnode *c = t->child; c != NULL; c = c->next)
			v[i++] = c;
		qsort(v, n, sizeof(*v), node_cmp);
		for (i = 0; i + 1 < n; i++)
			v[i]->next = v[i + 1];
		v[n - 1]->next = NULL;
		t->child = v[0];
	}
	if (t->msg == NULL && t->child != NULL) {
		t->date = t->child->date;
		t->seq = t->child->seq;
	}
}

/* Every node under root (root included), each before its descendants. */
static struct tnode **preorder(pool_t *pool, struct tnode *root, size_t total, size_t *n_r)
{
	struct tnode **order = pool_calloc(pool, total + 1, sizeof(*order));
	struct tnode **stack = pool_calloc(pool, total + 1, sizeof(*stack));
	size_t n = 0, sp = 0;
	stack[sp++] = root;
	while (sp > 0) {
		struct tnode *t = stack[--sp];
		order[n++] = t;
		for (struct tnode *c = t->child; c != NULL; c = c->next)
			stack[sp++] = c;
	}
	*n_r = n;
	return order;
}

/* The presentation's work list: "(", ")" or a node's members. */
enum act_what { ACT_OPEN, ACT_CLOSE, ACT_MEMBERS };
struct act {
	enum act_what what;
	struct tnode *t;
};
struct acts {
	struct act *v;
	size_t n, cap;
	pool_t *pool;
};

static void act_push(struct acts *a, enum act_what what, struct tnode *t)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		a->v = pool_realloc(a->pool, a->v, a->cap * sizeof(*a->v), cap * sizeof(*a->v));
		a->cap = cap;
	}
	a->v[a->n++] = (struct act){what, t};
}

/* Schedules "(" members ")" for each child of t, the first child to be
 * written first (the work list is a stack). */
static void push_lists(struct acts *a, struct tnode *t)
{
	size_t k = 0;
	for (struct tnode *c = t->child; c != NULL; c = c->next)
		k++;
	struct tnode **v = pool_calloc(a->pool, k ? k : 1, sizeof(*v));
	k = 0;
	for (struct tnode *c = t->child; c != NULL; c = c->next)
		v[k++] = c;
	while (k-- > 0) {
		act_push(a, ACT_CLOSE, NULL);
		act_push(a, ACT_MEMBERS, v[k]);
		act_push(a, ACT_OPEN, NULL);
	}
}

/* Appends the children of root as thread lists (RFC 5256 4):
 * thread-list = "(" (thread-members / thread-nested) ")". A message is
 * followed by its only child, or by a nested list per child; a dummy is
 * its children's lists. */
static void present(pool_t *pool, struct tnode *root, struct buf *out)
{
	struct acts a = {.pool = pool};
	push_lists(&a, root);
	while (a.n > 0) {
		struct act x = a.v[--a.n];
		if (x.what == ACT_OPEN) {
			buf_append_byte(out, '(');
			continue;
		}
		if (x.what == ACT_CLOSE) {
			buf_append_byte(out, ')');
			continue;
		}
		struct tnode *t = x.t;
		if (t->msg == NULL) {
			push_lists(&a, t);
			continue;
		}
		buf_printf(out, "%u", t->msg->id);
		if (t->child == NULL)
			continue;
		buf_append_byte(out, ' ');
		if (t->child->next == NULL)
			act_push(&a, ACT_MEMBERS, t->child);
		else
			push_lists(&a, t);
	}
}

/* --- ORDEREDSUBJECT (RFC 5256 3) --- */

struct osubj {
	const struct imap_thread_msg *m;
};

static int osubj_cmp(const void *x, const void *y)
{
	const struct imap_thread_msg *a = ((const struct osubj *)x)->m,
	                             *b = ((const struct osubj *)y)->m;
	int c = imap_ascii_casemap_cmp(a->subject, b->subject);
	if (c != 0)
		return c;
	if (a->date != b->date)
		return a->date < b->date ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void imap_thread_orderedsubject(
        pool_t *pool, const struct imap_thread_msg *msgs, size_t n, struct buf *out)
{
	if (n == 0)
		return;
	/* Sorted by base subject, then sent date; each run of one subject is
	 * a thread whose first message is the parent of all the others. */
	struct osubj *v = pool_calloc(pool, n, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i].m = &msgs[i];
	qsort(v, n, sizeof(*v), osubj_cmp);
	struct tnode root = {0};
	struct tnode *last_top = NULL, *last_child = NULL;
	for (size_t i = 0; i < n; i++) {
		struct tnode *t = node_new(pool, v[i].m);
		if (last_top != NULL &&
		        imap_ascii_casemap_cmp(last_top->msg->subject, v[i].m->subject) == 0) {
			t->parent = last_top;
			if (last_child == NULL)
				last_top->child = t;
			else
				last_child->next = t;
			last_child = t;
			continue;
		}
		t->parent = &root;
		t->next = root.child;
		root.child = t;
		last_top = t;
		last_child = NULL;
	}
	/* Threads in the order of their first messages. */
	sort_children(pool, &root);
	present(pool, &root, out);
}

/* --- REFERENCES (RFC 5256 3) --- */

static const char *thread_subject(const struct tnode *t)
{
	if (t->msg != NULL)
		return t->msg->subject;
	return t->child != NULL && t->child->msg != NULL ? t->child->msg->subject : "";
}

static char *subject_key(pool_t *pool, const char *s)
{
	char *k = pool_strdup(pool, s);
	for (char *c = k; *c; c++)
		*c = (char)ascii_toupper(*c);
	return k;
}

void imap_thread_references(
        pool_t *pool, const struct imap_thread_msg *msgs, size_t n, struct buf *out)
{
	if (n == 0)
		return;
	struct hash *ids = hash_new(n * 2);
	ARRAY(struct tnode *) all;
	array_init(&all, pool);

	/* (1) Link messages by their references. */
	for (size_t i = 0; i < n; i++) {
		const struct imap_thread_msg *m = &msgs[i];
		struct tnode *cur = NULL;
		if (m->message_id != NULL && *m->message_id != '\0') {
			cur = hash_get_str(ids, m->message_id);
			if (cur != NULL && cur->msg == NULL) {
				/* A dummy made for a reference to this message. */
				cur->msg = m;
				cur->date = m->date;
				cur->seq = m->seq;
			} else if (cur != NULL) {
				/* A duplicate Message-ID: this one gets a unique ID
				 * (it is simply not entered in the table). */
				cur = NULL;
			}
		}
		if (cur == NULL) {
			cur = node_new(pool, m);
			array_push(&all, cur);
			if (m->message_id != NULL && *m->message_id != '\0' &&
			        hash_get_str(ids, m->message_id) == NULL)
				hash_put_str(ids, m->message_id, cur);
		}
		/* (1A) Each reference the parent of the next, unless the next
		 * has a parent already or a loop would result. */
		struct tnode *prev = NULL;
		for (size_t r = 0; r < m->nrefs; r++) {
			const char *ref = m->refs[r];
			if (ref == NULL || *ref == '\0')
				continue;
			struct tnode *rn = hash_get_str(ids, ref);
			if (rn == NULL) {
				rn = node_new(pool, NULL);
				array_push(&all, rn);
				hash_put_str(ids, ref, rn);
			}
			if (prev != NULL && rn->parent == NULL && !would_loop(prev, rn))
				node_link(prev, rn);
			prev = rn;
		}
		/* (1B) The last reference is the message's parent, whatever
		 * parent it was given before. */
		node_unlink(cur);
		if (prev != NULL && !would_loop(prev, cur))
			node_link(prev, cur);
	}
	hash_free(&ids);

	/* (2) The root: every node without a parent. */
	struct tnode root = {0};
	for (size_t i = 0; i < all.n; i++)
		if (all.v[i]->parent == NULL)
			node_link(&root, all.v[i]);

	/* (3) Prune dummies, deepest first: an empty dummy goes; one with
	 * children gives them to its parent, but at the top only when it
	 * has a single child. */
	size_t norder;
	struct tnode **order = preorder(pool, &root, all.n, &norder);
	for (size_t k = norder; k-- > 0;) {
		struct tnode *t = order[k];
		struct tnode *kids = t->child, *kept = NULL;
		t->child = NULL;
		while (kids != NULL) {
			struct tnode *c = kids;
			kids = kids->next;
			c->next = NULL;
			if (c->msg == NULL && c->child == NULL)
				continue;
			if (c->msg == NULL && (t != &root || c->child->next == NULL)) {
				/* Splice c's children in its place. */
				struct tnode *g = c->child;
				while (g != NULL) {
					struct tnode *gn = g->next;
					g->parent = t;
					g->next = kept;
					kept = g;
					g = gn;
				}
				continue;
			}
			c->next = kept;
			kept = c;
		}
		t->child = kept;
	}

	/* (4) Sort the top level by sent date (a dummy by its first child
	 * once its children are sorted). */
	for (struct tnode *c = root.child; c != NULL; c = c->next)
		if (c->msg == NULL)
			sort_children(pool, c);
	sort_children(pool, &root);

	/* (5) Gather top-level threads with the same base subject. */
	size_t ntop = 0;
	for (struct tnode *c = root.child; c != NULL; c = c->next)
		ntop++;
	struct tnode **top = pool_calloc(pool, ntop + 1, sizeof(*top));
	ntop = 0;
	for (struct tnode *c = root.child; c != NULL; c = c->next) {
		c->top = ntop;
		top[ntop++] = c;
	}
	struct hash *subj = hash_new(ntop * 2 + 1);
	char **keys = pool_calloc(pool, ntop + 1, sizeof(*keys));
	/* (5B) One thread per subject: a dummy first, else one that is not
	 * a reply. */
	for (size_t i = 0; i < ntop; i++) {
		struct tnode *c = top[i];
		const char *s = thread_subject(c);
		if (*s == '\0')
			continue;
		keys[i] = subject_key(pool, s);
		struct tnode *t = hash_get_str(subj, keys[i]);
		if (t == NULL ||
		        (t->msg != NULL && (c->msg == NULL || (t->msg->reply && !c->msg->reply))))
			hash_put_str(subj, keys[i], c);
	}
	/* (5C) Merge the others into it. */
	for (size_t i = 0; i < ntop; i++) {
		struct tnode *c = top[i];
		if (c == NULL || keys[i] == NULL)
			continue;
		struct tnode *t = hash_get_str(subj, keys[i]);
		if (t == NULL || t == c)
			continue;
		top[i] = NULL;
		c->parent = NULL;
		if (t->msg == NULL && c->msg == NULL) {
			/* Both dummies: c's children become t's. */
			struct tnode *g = c->child;
			while (g != NULL) {
				struct tnode *gn = g->next;
				node_link(t, g);
				g = gn;
			}
		} else if (t->msg == NULL) {
			node_link(t, c);
		} else if (c->msg == NULL) {
			/* Cannot follow from 5B (a dummy would be in the table);
			 * kept symmetric all the same. */
			node_link(c, t);
			top[t->top] = c;
			c->top = t->top;
			hash_put_str(subj, keys[i], c);
		} else if (c->msg->reply && !t->msg->reply) {
			node_link(t, c);
		} else {
			struct tnode *d = node_new(pool, NULL);
			top[t->top] = d;
			d->top = t->top;
			t->parent = NULL;
			node_link(d, t);
			node_link(d, c);
			hash_put_str(subj, keys[i], d);
		}
	}
	hash_free(&subj);
	root.child = NULL;
	for (size_t i = ntop; i-- > 0;) {
		if (top[i] == NULL)
			continue;
		top[i]->parent = &root;
		top[i]->next = root.child;
		root.child = top[i];
	}

	/* (6) Sort every set of siblings, deepest first. The dummies made
	 * in (5) are not in all: count generously. */
	order = preorder(pool, &root, all.n + ntop + 1, &norder);
	for (size_t k = norder; k-- > 0;)
		sort_children(pool, order[k]);

	/* (7) */
	present(pool, &root, out);
}
