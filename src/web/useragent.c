/*
 * useragent.c - the browser family of a User-Agent (see useragent.h).
 *
 * TRUST: untrusted bytes, read only within the first LK_HTTP_MAX_USER_AGENT
 * of (p, len); a fixed list of needles, so the work per header is bounded.
 */
#include "web/useragent.h"

#include <string.h>

#include "core/limits.h"

/* 1 if needle occurs in (p, len), ASCII letters compared without case. */
static int has(const char *p, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	if (n > len)
		return 0;
	for (size_t i = 0; i + n <= len; i++) {
		size_t k = 0;
		while (k < n) {
			unsigned char a = (unsigned char)p[i + k], b = (unsigned char)needle[k];
			if (a >= 'A' && a <= 'Z')
				a = (unsigned char)(a - 'A' + 'a');
			if (a != b)
				break;
			k++;
		}
		if (k == n)
			return 1;
	}
	return 0;
}

/* Lower case, as has() compares. */
static const char *const BOTS[] = {
    "bot",	   "crawl",  "spider",	   "slurp",	 "curl/",	   "wget/",
    "python",	   "java/",  "libwww",	   "httpclient", "go-http-client", "headless",
    "phantomjs",   "okhttp", "preview",	   "scanner",	 "monitor",	   "feedfetcher",
    "facebookext", "node",   "lighthouse", "axios/",	 "scrapy",
};

enum ua_family ua_family(const char *p, size_t len)
{
	if (p == NULL || len == 0)
		return UA_OTHER;
	if (len > LK_HTTP_MAX_USER_AGENT)
		len = LK_HTTP_MAX_USER_AGENT;
	for (size_t i = 0; i < sizeof(BOTS) / sizeof(BOTS[0]); i++)
		if (has(p, len, BOTS[i]))
			return UA_BOT;
	if (has(p, len, "edg/") || has(p, len, "edge/") || has(p, len, "edga/") ||
	    has(p, len, "edgios/"))
		return UA_EDGE;
	/* Chrome-based browsers with a name of their own are "other". */
	if (has(p, len, "opr/") || has(p, len, "opera") || has(p, len, "samsungbrowser/") ||
	    has(p, len, "yabrowser/") || has(p, len, "vivaldi/"))
		return UA_OTHER;
	if (has(p, len, "firefox/") || has(p, len, "fxios/"))
		return UA_FIREFOX;
	if (has(p, len, "chrome/") || has(p, len, "crios/") || has(p, len, "chromium/"))
		return UA_CHROME;
	if (has(p, len, "safari/") && has(p, len, "version/"))
		return UA_SAFARI;
	return UA_OTHER;
}

const char *ua_family_name(enum ua_family f)
{
	static const char *const NAMES[UA_COUNT] = {
	    [UA_OTHER] = "other",   [UA_FIREFOX] = "firefox", [UA_CHROME] = "chrome",
	    [UA_SAFARI] = "safari", [UA_EDGE] = "edge",	      [UA_BOT] = "bot",
	};
	return (unsigned)f < UA_COUNT ? NAMES[f] : "other";
}
