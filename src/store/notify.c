/* Notification hub: subscribers of one mailbox, called after commits.
 *
 * Publishing takes the hub's read lock, so any number of threads publish
 * at once; unsubscribing takes the write lock, so when it returns no
 * callback of that subscription is running. */
#include <pthread.h>
#include <string.h>

#include "core/array.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "store/notify.h"
#include "store/store_int.h"

struct store_subscription {
	struct store_notify_hub *hub;
	struct mailbox *m;
	uint32_t mask;
	mapi_id_t fid, mid;
	store_notify_fn *fn;
	void *ctx;
};

struct store_notify_hub {
	pthread_rwlock_t lock;
	ARRAY(struct store_subscription *) subs;
};

void store_mailbox_ref(struct mailbox *m);
void store_mailbox_unref(struct mailbox *m);

struct store_notify_hub *store_notify_hub_new(void)
{
	struct store_notify_hub *h = xcalloc(1, sizeof(*h));
	pthread_rwlock_init(&h->lock, NULL);
	array_init(&h->subs, NULL);
	return h;
}

void store_notify_hub_free(struct store_notify_hub **hp)
{
	struct store_notify_hub *h = *hp;
	if (h == NULL)
		return;
	*hp = NULL;
	/* Subscriptions hold a mailbox reference: none can be left. */
	HERMOD_ASSERT(h->subs.n == 0);
	array_free(&h->subs);
	pthread_rwlock_destroy(&h->lock);
	free(h);
}

static bool matches(const struct store_subscription *s, const struct store_event *ev)
{
	if (!(s->mask & ev->type))
		return false;
	if (s->fid != 0 && ev->fid != s->fid && ev->old_fid != s->fid &&
		!(!ev->is_message && (ev->parent == s->fid || ev->old_parent == s->fid)))
		return false;
	if (s->mid != 0 && ev->mid != s->mid && ev->old_mid != s->mid)
		return false;
	return true;
}

void store_notify_publish(struct store_notify_hub *h, const struct store_event *evs, size_t n)
{
	pthread_rwlock_rdlock(&h->lock);
	for (size_t i = 0; i < h->subs.n; i++) {
		struct store_subscription *s = h->subs.v[i];
		for (size_t k = 0; k < n; k++)
			if (matches(s, &evs[k]))
				s->fn(s->ctx, &evs[k]);
	}
	pthread_rwlock_unlock(&h->lock);
}

struct store_subscription *store_subscribe(struct store_mailbox *mb, uint32_t mask, mapi_id_t fid,
	mapi_id_t mid, store_notify_fn *fn, void *ctx)
{
	if (fn == NULL || (mask & STORE_EVENT_ALL) == 0)
		return NULL;
	struct store_subscription *s = xcalloc(1, sizeof(*s));
	s->hub = mb->m->hub;
	s->m = mb->m;
	s->mask = mask;
	s->fid = fid;
	s->mid = mid;
	s->fn = fn;
	s->ctx = ctx;
	store_mailbox_ref(mb->m);
	pthread_rwlock_wrlock(&s->hub->lock);
	array_push(&s->hub->subs, s);
	pthread_rwlock_unlock(&s->hub->lock);
	return s;
}

void store_unsubscribe(struct store_subscription **sp)
{
	struct store_subscription *s = *sp;
	if (s == NULL)
		return;
	*sp = NULL;
	struct store_notify_hub *h = s->hub;
	pthread_rwlock_wrlock(&h->lock);
	for (size_t i = 0; i < h->subs.n; i++) {
		if (h->subs.v[i] == s) {
			array_delete(&h->subs, i);
			break;
		}
	}
	pthread_rwlock_unlock(&h->lock);
	store_mailbox_unref(s->m);
	free(s);
}
