/*
 * test_useragent.c - the browser family of real User-Agent strings: each
 * browser's own token wins over the names it borrows (Edge says Chrome and
 * Safari, Chrome says Safari), crawlers and tools are bots, and anything
 * else, or nothing, is "other".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/limits.h"
#include "web/useragent.h"

static const struct {
	const char *ua;
	enum ua_family want;
} CASES[] = {
    {"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", UA_FIREFOX},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
     "like Gecko) FxiOS/127.0 Mobile/15E148 Safari/605.1.15",
     UA_FIREFOX},
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.0.0 Safari/537.36",
     UA_CHROME},
    {"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.6478.71 Mobile Safari/537.36",
     UA_CHROME},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
     "like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1",
     UA_CHROME},
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
     UA_EDGE},
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Safari/605.1.15",
     UA_SAFARI},
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.0.0 Safari/537.36 OPR/111.0.0.0",
     UA_OTHER},
    {"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", UA_BOT},
    {"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", UA_BOT},
    {"curl/7.88.1", UA_BOT},
    {"Wget/1.21.3", UA_BOT},
    {"python-requests/2.31.0", UA_BOT},
    {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "HeadlessChrome/126.0.0.0 Safari/537.36",
     UA_BOT},
    {"Lynx/2.9.0dev.12 libwww-FM/2.14", UA_BOT},
    {"w3m/0.5.3", UA_OTHER},
    {"", UA_OTHER},
};

static void test_families(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
		enum ua_family got = ua_family(CASES[i].ua, strlen(CASES[i].ua));
		if (got != CASES[i].want)
			fail_msg("'%s': got %s, want %s", CASES[i].ua, ua_family_name(got),
				 ua_family_name(CASES[i].want));
	}
	assert_int_equal(ua_family(NULL, 0), UA_OTHER);
	assert_string_equal(ua_family_name(UA_EDGE), "edge");
	assert_string_equal(ua_family_name((enum ua_family)99), "other");
}

/* Only the first LK_HTTP_MAX_USER_AGENT bytes are read, and never past len. */
static void test_bounds(void **state)
{
	(void)state;
	static char ua[LK_HTTP_MAX_USER_AGENT + 64];
	memset(ua, 'x', sizeof(ua));
	memcpy(ua + LK_HTTP_MAX_USER_AGENT, "Firefox/1", 9);
	assert_int_equal(ua_family(ua, sizeof(ua)), UA_OTHER);
	memcpy(ua, "Firefox/128.0", 13);
	assert_int_equal(ua_family(ua, 12), UA_FIREFOX); /* "Firefox/128." has the token */
	assert_int_equal(ua_family(ua, 7), UA_OTHER);	 /* "Firefox" alone does not */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_families),
	    cmocka_unit_test(test_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
