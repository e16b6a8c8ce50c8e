/*
 * mine.c - a person's data and lists for their pages (see mine.h).
 *
 * TRUST: ids from authenticated tokens; the records come from the store.
 * The opened personal data is wiped by mine_free (person_free).
 */
#include "web/mine.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/xmalloc.h"
#include "web/pages.h"

struct subs {
	struct subscription_rec *v;
	size_t n, cap;
};

static int take_sub(void *ctx, const struct subscription_rec *r)
{
	struct subs *s = ctx;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 8;
		s->v = xreallocarray(s->v, s->cap, sizeof(*s->v));
	}
	s->v[s->n++] = *r;
	return 0;
}

struct walk {
	const struct subs *subs;
	struct mine_list *on, *other;
	size_t n_on, n_other, max;
	int with_public, more;
};

static void fill(struct mine_list *e, const struct list_rec *l)
{
	memset(e, 0, sizeof(*e));
	e->id = l->id;
	e->name = xstrdup(l->name);
	e->title = xstrdup(page_list_title(l));
	e->digest = l->digest;
	e->public = page_list_public(l);
}

static int take_list(void *ctx, const struct list_rec *l)
{
	struct walk *w = ctx;
	for (size_t i = 0; i < w->subs->n; i++) {
		if (w->subs->v[i].list_id != l->id)
			continue;
		if (w->n_on == w->max) {
			w->more = 1;
			return 0;
		}
		struct mine_list *e = &w->on[w->n_on++];
		fill(e, l);
		e->subscribed = 1;
		e->sub = w->subs->v[i];
		return 0;
	}
	if (!w->with_public || !page_list_public(l))
		return 0;
	if (w->n_other == w->max) {
		w->more = 1;
		return 0;
	}
	fill(&w->other[w->n_other++], l);
	return 0;
}

int mine_load(struct lists_ctx *x, int64_t id, int with_public, size_t max, struct mine *m)
{
	memset(m, 0, sizeof(*m));
	int r = store_subscriber_get(x->st, id, &m->who);
	if (r != STORE_OK)
		return r;
	if (lists_person_load(x, &m->who, &m->p) < 0)
		return STORE_ERR;
	struct subs subs = {0};
	r = store_subscriptions_of(x->st, id, take_sub, &subs);
	struct walk w = {&subs, NULL, NULL, 0, 0, max, with_public, 0};
	w.on = xcalloc(max ? max : 1, sizeof(*w.on));
	w.other = xcalloc(max ? max : 1, sizeof(*w.other));
	if (r == STORE_OK)
		r = store_list_each(x->st, take_list, &w);
	/* the lists the person is on first, then the others, max in all */
	size_t keep = w.n_other < max - w.n_on ? w.n_other : max - w.n_on;
	for (size_t i = 0; i < keep; i++)
		w.on[w.n_on + i] = w.other[i];
	for (size_t i = keep; i < w.n_other; i++) {
		free(w.other[i].name);
		free(w.other[i].title);
	}
	m->v = w.on;
	m->n = w.n_on + keep;
	m->more = w.more || keep < w.n_other;
	free(w.other);
	free(subs.v);
	return r;
}

void mine_free(struct mine *m)
{
	if (m == NULL)
		return;
	subscriber_rec_free(&m->who);
	person_free(&m->p);
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].name);
		free(m->v[i].title);
	}
	free(m->v);
	memset(m, 0, sizeof(*m));
}

struct mine_list *mine_find(const struct mine *m, int64_t list_id)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].id == list_id)
			return &m->v[i];
	return NULL;
}

const char *mine_state_text(enum sub_state s)
{
	switch (s) {
	case SUB_STATE_PENDING:
		return "waiting for your confirmation";
	case SUB_STATE_ACTIVE:
		return "subscribed";
	case SUB_STATE_HELD:
		return "waiting for the list owner's approval";
	case SUB_STATE_DISABLED:
		return "paused: mail to your address bounced";
	}
	return "subscribed";
}

int mine_audit_view(struct lists_ctx *x, int64_t id, const char *what)
{
	int r = store_begin(x->st);
	if (r != STORE_OK)
		return r;
	r = store_audit(x->st, clock_now(), x->actor, "person-view", 0, id, what);
	if (r == STORE_OK)
		r = store_commit(x->st);
	if (r != STORE_OK)
		store_rollback(x->st);
	return r;
}

void mine_ctx(const struct listpage_env *env, struct lists_ctx *x)
{
	memset(x, 0, sizeof(*x));
	x->st = env->st;
	x->keys = env->keys;
	x->policy_version = env->consent_version;
	x->tmpl = env->site->tmpl;
	x->actor = "web";
}
