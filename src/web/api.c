/* api.c - the JSON API (web/admin.h): to come in the next commit. */
#include "web/admin_int.h"

void api_handle(struct admin_req *r)
{
	page_begin(&r->p, 404, "no-store");
	page_text(&r->p, 404, "no-store", "application/problem+json",
		  "{\"title\":\"Not Found\",\"status\":404}", 32);
}
