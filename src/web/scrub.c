/* See web/scrub.h. One flag per process: there is one web server. */
#include "web/scrub.h"

#include <stdatomic.h>

static atomic_int scrub_due;

void web_scrub_soon(void)
{
	atomic_store(&scrub_due, 1);
}

int web_scrub_take(void)
{
	return atomic_exchange(&scrub_due, 0);
}
