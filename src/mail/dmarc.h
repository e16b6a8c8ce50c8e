/*
 * dmarc.h - the DMARC policy a post's From domain publishes (RFC 7489), for
 * the list's mitigation (mail/distrib.h munge_from): a list that changes a
 * post breaks its DKIM signature, so receivers of a domain with p=reject or
 * p=quarantine would refuse or bin it unless the From is the list's.
 *
 *   dmarc_policy   [dmarc] override first (a table in the configuration:
 *                  for tests and offline sites), then, when [dmarc] dns is
 *                  set, the TXT record of _dmarc.DOMAIN and of each parent
 *                  domain up to two labels (its sp= when found at a parent)
 *   dmarc_policy_name
 *
 * TRUST: the domain comes from a post's From (distrib_from_domain: no
 * space, control character or angle bracket); a TXT record is untrusted,
 * read within its length, only its p= and sp= tags compared.
 */
#ifndef LK_MAIL_DMARC_H
#define LK_MAIL_DMARC_H

#include "core/conf.h"

enum dmarc_policy { DMARC_NONE, DMARC_QUARANTINE, DMARC_REJECT };
const char *dmarc_policy_name(enum dmarc_policy p);

/* The policy of domain (lower case). DMARC_NONE when none is published or
 * it cannot be found now (a failed lookup is not a policy). */
enum dmarc_policy dmarc_policy(const struct conf *c, const char *domain);

#endif
