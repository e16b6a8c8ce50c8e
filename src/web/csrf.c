/*
 * csrf.c - stateless CSRF fields (see csrf.h).
 *
 * TRUST: the posted value is untrusted: its length is checked before
 * anything else, and the comparison takes the same time wherever it differs.
 */
#include "web/csrf.h"

#include <sodium.h>
#include <string.h>

#include "crypto/hash.h"

static const char LABEL[] = "lk-csrf"; /* with its NUL: the label ends there */

static void mac_for(const struct keys *k, const char *path_z, int64_t hour, char out[CSRF_LEN + 1])
{
	crypto_auth_hmacsha256_state st;
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	uint8_t be[8];
	for (int i = 0; i < 8; i++)
		be[i] = (uint8_t)((uint64_t)hour >> (56 - 8 * i));
	crypto_auth_hmacsha256_init(&st, k->mac, sizeof(k->mac));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)LABEL, sizeof(LABEL));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)path_z, strlen(path_z) + 1);
	crypto_auth_hmacsha256_update(&st, be, sizeof(be));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2base64(out, CSRF_LEN + 1, mac, sizeof(mac),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(mac, sizeof(mac));
}

void csrf_make(const struct keys *k, const char *path_z, int64_t now, char out[CSRF_LEN + 1])
{
	mac_for(k, path_z, now / 3600, out);
}

int csrf_check(const struct keys *k, const char *path_z, int64_t now, const char *value, size_t len)
{
	if (value == NULL || len != CSRF_LEN)
		return 0;
	int ok = 0;
	for (int64_t back = 0; back < 2; back++) {
		char want[CSRF_LEN + 1];
		mac_for(k, path_z, now / 3600 - back, want);
		ok |= secret_eq(want, value, CSRF_LEN);
		sodium_memzero(want, sizeof(want));
	}
	return ok;
}

int csrf_check_form(const struct keys *k, const char *path_z, int64_t now, const struct form *f)
{
	const char *v = form_get(f, "csrf");
	return form_count(f, "csrf") == 1 && csrf_check(k, path_z, now, v, strlen(v));
}
