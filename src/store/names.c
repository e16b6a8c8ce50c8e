/*
 * names.c - the one name table of every kind, state and policy of the
 * store's records (store.h, core/nametab.h). The names are what the store
 * writes and the migrations' CHECKs accept; a new kind (a distribution job,
 * say) is one name here, in the enum, and a migration that widens the CHECK.
 *
 * TRUST: the parsers see names from the database and from the command line;
 * nametab_parse compares them with their length.
 */
#include "store/store.h"

static const char *const LIST_KIND[] = {"announce", "discussion"};
const struct nametab list_kind_names = NAMETAB(LIST_KIND);

const char *list_kind_name(enum list_kind v)
{
	return nametab_name(&list_kind_names, (int)v);
}

int list_kind_parse(const char *z, enum list_kind *out)
{
	int v;
	if (nametab_parse(&list_kind_names, z, &v) < 0)
		return -1;
	*out = (enum list_kind)v;
	return 0;
}

static const char *const LIST_SUB_POLICY[] = {"confirm", "owner", "closed"};
const struct nametab list_sub_policy_names = NAMETAB(LIST_SUB_POLICY);

const char *list_sub_policy_name(enum list_sub_policy v)
{
	return nametab_name(&list_sub_policy_names, (int)v);
}

int list_sub_policy_parse(const char *z, enum list_sub_policy *out)
{
	int v;
	if (nametab_parse(&list_sub_policy_names, z, &v) < 0)
		return -1;
	*out = (enum list_sub_policy)v;
	return 0;
}

static const char *const LIST_POST_POLICY[] = {"owners", "members", "anyone"};
const struct nametab list_post_policy_names = NAMETAB(LIST_POST_POLICY);

const char *list_post_policy_name(enum list_post_policy v)
{
	return nametab_name(&list_post_policy_names, (int)v);
}

int list_post_policy_parse(const char *z, enum list_post_policy *out)
{
	int v;
	if (nametab_parse(&list_post_policy_names, z, &v) < 0)
		return -1;
	*out = (enum list_post_policy)v;
	return 0;
}

static const char *const LIST_MODERATION[] = {"none", "new", "all"};
const struct nametab list_moderation_names = NAMETAB(LIST_MODERATION);

const char *list_moderation_name(enum list_moderation v)
{
	return nametab_name(&list_moderation_names, (int)v);
}

int list_moderation_parse(const char *z, enum list_moderation *out)
{
	int v;
	if (nametab_parse(&list_moderation_names, z, &v) < 0)
		return -1;
	*out = (enum list_moderation)v;
	return 0;
}

static const char *const LIST_ARCHIVE[] = {"public", "members", "none"};
const struct nametab list_archive_names = NAMETAB(LIST_ARCHIVE);

const char *list_archive_name(enum list_archive v)
{
	return nametab_name(&list_archive_names, (int)v);
}

int list_archive_parse(const char *z, enum list_archive *out)
{
	int v;
	if (nametab_parse(&list_archive_names, z, &v) < 0)
		return -1;
	*out = (enum list_archive)v;
	return 0;
}

static const char *const LIST_BOUNCE_ACTION[] = {"disable", "remove"};
const struct nametab list_bounce_action_names = NAMETAB(LIST_BOUNCE_ACTION);

const char *list_bounce_action_name(enum list_bounce_action v)
{
	return nametab_name(&list_bounce_action_names, (int)v);
}

int list_bounce_action_parse(const char *z, enum list_bounce_action *out)
{
	int v;
	if (nametab_parse(&list_bounce_action_names, z, &v) < 0)
		return -1;
	*out = (enum list_bounce_action)v;
	return 0;
}

static const char *const LIST_ARCHIVE_ERASE[] = {"redact", "remove"};
const struct nametab list_archive_erase_names = NAMETAB(LIST_ARCHIVE_ERASE);

const char *list_archive_erase_name(enum list_archive_erase v)
{
	return nametab_name(&list_archive_erase_names, (int)v);
}

int list_archive_erase_parse(const char *z, enum list_archive_erase *out)
{
	int v;
	if (nametab_parse(&list_archive_erase_names, z, &v) < 0)
		return -1;
	*out = (enum list_archive_erase)v;
	return 0;
}

static const char *const SUB_STATE[] = {"pending", "active", "held", "disabled"};
const struct nametab sub_state_names = NAMETAB(SUB_STATE);

const char *sub_state_name(enum sub_state v)
{
	return nametab_name(&sub_state_names, (int)v);
}

int sub_state_parse(const char *z, enum sub_state *out)
{
	int v;
	if (nametab_parse(&sub_state_names, z, &v) < 0)
		return -1;
	*out = (enum sub_state)v;
	return 0;
}

static const char *const JOB_KIND[] = {"campaign", "confirm", "reply",
				       "request",  "notice",  "distribution"};
const struct nametab job_kind_names = NAMETAB(JOB_KIND);

const char *job_kind_name(enum job_kind v)
{
	return nametab_name(&job_kind_names, (int)v);
}

int job_kind_parse(const char *z, enum job_kind *out)
{
	int v;
	if (nametab_parse(&job_kind_names, z, &v) < 0)
		return -1;
	*out = (enum job_kind)v;
	return 0;
}

static const char *const JOB_STATE[] = {"scheduled", "running", "paused", "done", "cancelled"};
const struct nametab job_state_names = NAMETAB(JOB_STATE);

const char *job_state_name(enum job_state v)
{
	return nametab_name(&job_state_names, (int)v);
}

int job_state_parse(const char *z, enum job_state *out)
{
	int v;
	if (nametab_parse(&job_state_names, z, &v) < 0)
		return -1;
	*out = (enum job_state)v;
	return 0;
}

static const char *const STAFF_ROLE[] = {"admin", "owner", "moderator", "editor"};
const struct nametab staff_role_names = NAMETAB(STAFF_ROLE);

const char *staff_role_name(enum staff_role v)
{
	return nametab_name(&staff_role_names, (int)v);
}

int staff_role_parse(const char *z, enum staff_role *out)
{
	int v;
	if (nametab_parse(&staff_role_names, z, &v) < 0)
		return -1;
	*out = (enum staff_role)v;
	return 0;
}

static const char *const API_SCOPE[] = {"read", "write"};
const struct nametab api_scope_names = NAMETAB(API_SCOPE);

const char *api_scope_name(enum api_scope v)
{
	return nametab_name(&api_scope_names, (int)v);
}

int api_scope_parse(const char *z, enum api_scope *out)
{
	int v;
	if (nametab_parse(&api_scope_names, z, &v) < 0)
		return -1;
	*out = (enum api_scope)v;
	return 0;
}

static const char *const SUB_FORMAT[] = {[SUB_FORMAT_TEXT] = "text", [SUB_FORMAT_HTML] = "html"};
const struct nametab sub_format_names = NAMETAB(SUB_FORMAT);

const char *sub_format_name(enum sub_format v)
{
	return nametab_name(&sub_format_names, (int)v);
}

int sub_format_parse(const char *z, enum sub_format *out)
{
	int v;
	if (z == NULL || nametab_parse(&sub_format_names, z, &v) < 0)
		return -1;
	*out = (enum sub_format)v;
	return 0;
}
