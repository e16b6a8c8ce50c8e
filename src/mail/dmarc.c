/*
 * dmarc.c - the DMARC policy of a domain (dmarc.h).
 *
 * TRUST: see dmarc.h. res_query's answer is parsed with ns_initparse and
 * ns_parserr (libc's bounded parser); a TXT string is at most 255 bytes.
 */
#include "mail/dmarc.h"

#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/limits.h"
#include "core/nametab.h"

static const char *const NAMES[] = {"none", "quarantine", "reject"};
static const struct nametab names = NAMETAB(NAMES);

const char *dmarc_policy_name(enum dmarc_policy p)
{
	return nametab_name(&names, (int)p);
}

/* The value of tag in a DMARC record ("v=DMARC1; p=reject; sp=none"), or
 * -1 when absent or not a policy. */
static int tag_policy(struct str rec, const char *tag)
{
	size_t tl = strlen(tag), i = 0;
	while (i < rec.len) {
		size_t e = i;
		while (e < rec.len && rec.ptr[e] != ';')
			e++;
		struct str t = str_trim((struct str){rec.ptr + i, e - i});
		i = e + 1;
		if (t.len <= tl || strncasecmp(t.ptr, tag, tl) != 0)
			continue;
		struct str v = str_trim((struct str){t.ptr + tl, t.len - tl});
		if (v.len == 0 || v.ptr[0] != '=')
			continue;
		v = str_trim((struct str){v.ptr + 1, v.len - 1});
		for (int p = 0; p < names.n; p++)
			if (str_eq_nocase_z(v, NAMES[p]))
				return p;
		return -1;
	}
	return -1;
}

/* [dmarc] override: "DOMAIN=POLICY, ..."; -1 when domain is not in it. */
static int overridden(const char *table, const char *domain)
{
	struct str all = str_from_z(table);
	size_t i = 0, dl = strlen(domain);
	while (i < all.len) {
		size_t e = i;
		while (e < all.len && all.ptr[e] != ',')
			e++;
		struct str item = str_trim((struct str){all.ptr + i, e - i});
		i = e + 1;
		long eq = str_find(item, '=');
		if (eq < 0)
			continue;
		struct str d = str_trim((struct str){item.ptr, (size_t)eq});
		struct str v = str_trim((struct str){item.ptr + eq + 1, item.len - (size_t)eq - 1});
		if (d.len != dl || strncasecmp(d.ptr, domain, dl) != 0)
			continue;
		for (int p = 0; p < names.n; p++)
			if (str_eq_nocase_z(v, NAMES[p]))
				return p;
	}
	return -1;
}

/* The DMARC record of _dmarc.domain by DNS: its p= (or sp= when parent),
 * or -1 when there is none or the lookup fails. */
static int looked_up(const char *domain, int parent)
{
	char q[LK_MAX_DOMAIN + 8];
	if (bsnprintf(q, sizeof(q), "_dmarc.%s", domain) < 0)
		return -1;
	unsigned char ans[4096];
	int n = res_query(q, ns_c_in, ns_t_txt, ans, sizeof(ans));
	if (n <= 0)
		return -1;
	ns_msg m;
	if (ns_initparse(ans, n, &m) < 0)
		return -1;
	int count = ns_msg_count(m, ns_s_an);
	for (int i = 0; i < count; i++) {
		ns_rr rr;
		if (ns_parserr(&m, ns_s_an, i, &rr) < 0 || ns_rr_type(rr) != ns_t_txt)
			continue;
		const unsigned char *d = ns_rr_rdata(rr);
		size_t dlen = ns_rr_rdlen(rr), off = 0;
		char rec[1024];
		size_t rl = 0;
		while (off < dlen) { /* character-strings, concatenated */
			size_t sl = d[off++];
			if (sl > dlen - off || rl + sl >= sizeof(rec))
				break;
			memcpy(rec + rl, d + off, sl);
			rl += sl;
			off += sl;
		}
		struct str r = {rec, rl};
		if (rl < 8 || strncasecmp(rec, "v=DMARC1", 8) != 0)
			continue;
		int p = parent ? tag_policy(r, "sp") : -1;
		return p >= 0 ? p : tag_policy(r, "p");
	}
	return -1;
}

enum dmarc_policy dmarc_policy(const struct conf *c, const char *domain)
{
	const char *table = conf_get(c, "dmarc", "override");
	int dns = conf_get_bool(c, "dmarc", "dns");
	int parent = 0;
	for (const char *d = domain; d != NULL && *d;) {
		int p = overridden(table, d);
		if (p < 0 && dns)
			p = looked_up(d, parent);
		if (p >= 0)
			return (enum dmarc_policy)p;
		const char *dot = strchr(d, '.');
		/* up to the organisational domain, taken as the last two labels */
		if (dot == NULL || strchr(dot + 1, '.') == NULL)
			break;
		d = dot + 1;
		parent = 1;
	}
	return DMARC_NONE;
}
