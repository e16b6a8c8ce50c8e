#!/usr/bin/env bash
# The admin pages through a live `serve --role admin`: sign-in with one
# HttpOnly; Secure; SameSite=Strict cookie made anew at each sign-in (no
# session fixation), sessions that end when idle, sign-out and sign-out
# everywhere; CSRF on every form; the need-to-know rules (an owner of news
# gets 404 for other's pages, a moderator a 403 for owner pages, only admins
# see the audit log); stored XSS through a list title and a subscriber's
# name comes out escaped; the settings form names the field in error; the
# members page and the look-up by address are audited by id, sign-ins with
# the client network, never an address; sign-in attempts past the limit are
# delayed, not refused; a name without an account costs the same time.
LK=$1
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/admin_lib.bash"
lk init --dir "$T" >/dev/null
export LISTKEEPER_ADMIN_LOGIN_PER_ACCOUNT=2 LISTKEEPER_ADMIN_LOGIN_DELAY_MS=4000
export LISTKEEPER_ADMIN_LOGIN_PER_NETWORK=1000
lk list create news --title 'News <script>alert(1)</script>' >/dev/null
lk list create other --title 'Other' >/dev/null
lk sub add news reader@example.org --name '<img src=x onerror=alert(2)>' --confirmed \
  --consent-note test >/dev/null
lk sub add other secret@example.net --confirmed --consent-note test >/dev/null
for u in root:admin olga:owner:news mo:moderator:news; do
  IFS=: read -r name role list <<<"$u"
  echo "password of $name" | lk user add "$name" >/dev/null
  lk user role "$name" add "$role" $list >/dev/null
done
if admin_serve; then ok "serve --role admin printed its URL"; else
  bad "serve --role admin printed its URL"; cat "$T/alog"; finish; exit 1; fi

# --- sign-in --------------------------------------------------------------
check "/ without a session goes to /login" [ "$(areq /)" = 303 ]
check "... Location /login" grep -qi '^Location: /login' "$T/h"
check "GET /login is 200" [ "$(areq /login)" = 200 ]
if grep -qi '^Set-Cookie' "$T/h"; then bad "the sign-in page sets a cookie"; else ok "the sign-in page sets no cookie"; fi
check "POST /login without CSRF is 403" [ "$(areq /login --data 'name=olga&password=password+of+olga')" = 403 ]
check "... and signs nobody in" bash -c "! grep -qi '^Set-Cookie' '$T/h'"
fixed=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
areq /login -H "Cookie: lk_admin=$fixed" >/dev/null
c=$(csrf_in)
areq /login -H "Cookie: lk_admin=$fixed" --data-urlencode "csrf=$c" --data-urlencode name=olga \
  --data-urlencode 'password=password of olga' >/dev/null
olga=$(sed -n 's/^Set-Cookie: lk_admin=\([0-9a-f]*\);.*/\1/p' "$T/h" | tr -d '\r')
check "sign-in sets a session cookie" [ ${#olga} -eq 64 ]
check "... HttpOnly; Secure; SameSite=Strict" grep -qi '^Set-Cookie: lk_admin=[0-9a-f]*; Path=/; Max-Age=[0-9]*; HttpOnly; Secure; SameSite=Strict' "$T/h"
check "... a fresh one, not the cookie the browser came with (fixation)" [ "$olga" != "$fixed" ]
check "the planted cookie signs nobody in" [ "$(areq / -H "Cookie: lk_admin=$fixed")" = 303 ]
check "the store keeps the session's hash, not its secret" \
  [ "$(q "SELECT count(*) FROM staff_sessions WHERE hex(hash) = upper('$olga')")" = 0 ]
O=(-H "Cookie: lk_admin=$olga")
check "the dashboard is 200 for olga" [ "$(areq / "${O[@]}")" = 200 ]
check "it shows news" grep -q 'href="/lists/news"' "$T/b"
check "it does not show other" bash -c "! grep -q '/lists/other' '$T/b'"
check "the list title is escaped (stored XSS)" grep -qF 'News &lt;script&gt;alert(1)&lt;/script&gt;' "$T/b"
check "it draws an SVG chart" grep -q '<svg role="img"' "$T/b"
check "a wrong password is 403" [ "$(areq /login --data-urlencode "csrf=$c" --data-urlencode name=olga --data-urlencode 'password=wrong one')" = 403 ]
check "... saying so, the same words as for no account" grep -q 'do not match an account' "$T/b"

# --- need to know -----------------------------------------------------------
check "olga: /lists/news is 200" [ "$(areq /lists/news "${O[@]}")" = 200 ]
check "olga: /lists/other is 404 (IDOR)" [ "$(areq /lists/other "${O[@]}")" = 404 ]
check "olga: /lists/other/subscribers is 404" [ "$(areq /lists/other/subscribers "${O[@]}")" = 404 ]
check "olga: /lists/other/find is 404" [ "$(areq '/lists/other/find?address=secret@example.net' "${O[@]}")" = 404 ]
check "... and shows nothing of it" bash -c "! grep -q 'secret@' '$T/b'"
check "olga: /lists/nolist is 404 as well" [ "$(areq /lists/nolist "${O[@]}")" = 404 ]
check "olga: /audit is 403" [ "$(areq /audit "${O[@]}")" = 403 ]
mo=$(sign_in mo 'password of mo')
M=(-H "Cookie: lk_admin=$mo")
check "mo signs in" [ ${#mo} -eq 64 ]
check "mo: the held posts of news are 200" [ "$(areq /lists/news/held "${M[@]}")" = 200 ]
check "mo: the settings of news are 403" [ "$(areq /lists/news "${M[@]}")" = 403 ]
check "mo: the members of news are 403" [ "$(areq /lists/news/subscribers "${M[@]}")" = 403 ]
check "mo: the look-up on news is 403" [ "$(areq '/lists/news/find?address=reader@example.org' "${M[@]}")" = 403 ]
areq /lists/news/held "${M[@]}" >/dev/null; mc=$(csrf_in /logout)
check "mo: a settings POST to news is 403" [ "$(areq /lists/news "${M[@]}" --data-urlencode "csrf=$mc" --data-urlencode 'title=pwned')" = 403 ]
check "... and the title is unchanged" [ "$(lk list show news | grep -c pwned)" = 0 ]
check "mo's dashboard shows no counts of news" bash -c "! grep -q 'href=\"/lists/news\"' '$T/b'"

# --- members, audited ---------------------------------------------------------
check "olga: the members of news are 200" [ "$(areq /lists/news/subscribers "${O[@]}")" = 200 ]
check "... with reader's address" grep -q 'reader@example.org' "$T/b"
check "... the name escaped (stored XSS)" grep -qF '&lt;img src=x onerror=alert(2)&gt;' "$T/b"
check "... never raw" bash -c "! grep -qF '<img src=x' '$T/b'"
rid=$(q "SELECT subscriber_id FROM subscriptions WHERE list_id = (SELECT id FROM lists WHERE name='news')")
check "the page view is audited with the ids" \
  [ "$(q "SELECT count(*) FROM audit_log WHERE action='subscribers-view' AND actor='staff:olga' AND detail LIKE '%ids $rid-$rid%'")" = 1 ]
check "find by exact address is 200" [ "$(areq '/lists/news/find?address=Reader%40Example.org' "${O[@]}")" = 200 ]
check "... and finds reader" grep -q "Found: subscriber $rid" "$T/b"
check "the look-up is audited by id" \
  [ "$(q "SELECT count(*) FROM audit_log WHERE action='subscriber-find' AND subscriber_id=$rid")" = 1 ]
areq '/lists/news/find?address=nobody%40example.org' "${O[@]}" >/dev/null
check "a look-up that finds no one is audited too" \
  [ "$(q "SELECT count(*) FROM audit_log WHERE action='subscriber-find' AND subscriber_id=0")" = 1 ]
if q "SELECT actor || detail FROM audit_log" | grep -q '@'; then bad "an address is in the audit log"; else ok "no address in the audit log"; fi
check "sign-ins are audited with the network" \
  [ "$(q "SELECT count(*) FROM audit_log WHERE action='sign-in' AND detail='net=127.0.0.0/24'")" -ge 2 ]
check "a failed sign-in is audited" \
  [ "$(q "SELECT count(*) FROM audit_log WHERE action='sign-in-failed' AND actor='staff:olga'")" -ge 1 ]
if q "SELECT detail FROM audit_log" | grep -q '127\.0\.0\.1'; then bad "a full address is in the audit log"; else ok "no full client address in the audit log"; fi

# --- the settings form ---------------------------------------------------------
areq /lists/news "${O[@]}" >/dev/null
sc=$(csrf_in /lists/news)
check "the settings form has a CSRF field" [ ${#sc} -eq 43 ]
check "a settings POST without CSRF is 403" [ "$(areq /lists/news "${O[@]}" --data 'title=x')" = 403 ]
check "a settings POST with another form's CSRF is 403" \
  [ "$(areq /lists/news "${O[@]}" --data-urlencode "csrf=$c" --data 'title=x')" = 403 ]
check "a settings POST with another session's CSRF is 403" \
  [ "$(areq /lists/news "${O[@]}" --data-urlencode "csrf=$mc" --data 'title=x')" = 403 ]
check "a bad value is 422" [ "$(areq /lists/news "${O[@]}" --data-urlencode "csrf=$sc" --data 'moderation=sometimes&title=Changed')" = 422 ]
check "... naming the field" grep -q 'class="field-error" role="alert">moderation: ' "$T/b"
check "... and nothing is saved" [ "$(lk list show news | grep -c Changed)" = 0 ]
check "a good change is 303" [ "$(areq /lists/news "${O[@]}" --data-urlencode "csrf=$sc" --data 'moderation=all&title=Changed')" = 303 ]
check "... saved" [ "$(lk list show news | grep -Ec 'Changed|moderation: all|moderation = all')" -ge 1 ]
check "... and audited" [ "$(q "SELECT detail FROM audit_log WHERE action='list-set' AND actor='staff:olga'")" = "title,moderation" ]

# --- the audit log page ----------------------------------------------------------
root=$(sign_in root 'password of root')
R=(-H "Cookie: lk_admin=$root")
check "root: /audit is 200" [ "$(areq /audit "${R[@]}")" = 200 ]
check "... it lists the views" grep -q 'subscribers-view' "$T/b"
check "root sees other on the dashboard" bash -c "[ \"\$(curl -s -H 'Cookie: lk_admin=$root' '$aurl/')\" != '' ] && curl -s -H 'Cookie: lk_admin=$root' '$aurl/' | grep -q '/lists/other'"

# --- sessions end ------------------------------------------------------------------
q "UPDATE staff_sessions SET seen = seen - 1801 WHERE staff_id = (SELECT id FROM staff WHERE name='mo')"
check "an idle session (31 minutes) ends" [ "$(areq / "${M[@]}")" = 303 ]
check "... and its row is gone" [ "$(q "SELECT count(*) FROM staff_sessions WHERE staff_id = (SELECT id FROM staff WHERE name='mo')")" = 0 ]
o2=$(sign_in olga 'password of olga')
check "olga has two sessions" [ "$(q "SELECT count(*) FROM staff_sessions WHERE staff_id = (SELECT id FROM staff WHERE name='olga')")" = 2 ]
areq / -H "Cookie: lk_admin=$o2" >/dev/null
lc=$(csrf_in /logout)
check "sign-out without CSRF is 403" [ "$(areq /logout -H "Cookie: lk_admin=$o2" --data 'everywhere=1')" = 403 ]
check "sign-out everywhere is 303" [ "$(areq /logout -H "Cookie: lk_admin=$o2" --data-urlencode "csrf=$lc" --data 'everywhere=1')" = 303 ]
check "... clearing the cookie" grep -qi '^Set-Cookie: lk_admin=; Path=/; Max-Age=0' "$T/h"
check "... both sessions end" [ "$(areq / "${O[@]}")" = 303 ]
check "... in the store" [ "$(q "SELECT count(*) FROM staff_sessions WHERE staff_id = (SELECT id FROM staff WHERE name='olga')")" = 0 ]

# --- sign-in limits: a delay, never a lockout ---------------------------------------
ms() { date +%s%N | cut -c1-13; }
attempt() { # attempt NAME PASSWORD: the sign-in's time in ms
  local t0; areq /login >/dev/null; local c; c=$(csrf_in); t0=$(ms)
  areq /login --data-urlencode "csrf=$c" --data-urlencode "name=$1" --data-urlencode "password=$2" >/dev/null
  echo $(($(ms) - t0))
}
# the same work whether or not the account exists (median of 3 each)
known=$(for i in 1 2 3; do attempt "probe$i" x; done | sort -n | sed -n 2p)
echo 'password of probe' | lk user add probe >/dev/null
exists=$(for i in 1 2 3; do attempt probe 'not it at all'; done | sort -n | sed -n 2p)
echo "# sign-in: no account ${known} ms, wrong password ${exists} ms"
check "a name without an account takes the Argon2id time too (${known} vs ${exists} ms)" \
  [ "$known" -ge $((exists / 3)) ] 
echo 'password of lim' | lk user add lim >/dev/null
for i in 1 2; do attempt lim wrong >/dev/null; done
slow=$(attempt lim wrong)
check "the 3rd attempt on an account is delayed (${slow} ms >= 4000)" [ "$slow" -ge 4000 ]
good=$(attempt lim 'password of lim')
check "... and the right password still signs in, delayed (${good} ms): no lockout" \
  grep -qi '^Set-Cookie: lk_admin=[0-9a-f]\{64\}' "$T/h"
echo "password of fresh" | lk user add fresh >/dev/null
fast=$(attempt fresh wrong)
check "another account is not delayed (${fast} ms)" [ "$fast" -lt $((slow - 2000)) ]

check "the log has no address" bash -c "! grep -av 'url=http://127' '$T/alog' | grep -aqE 'example\\.(org|net)|127\\.0\\.0\\.1'"
kill -TERM "$apid"; set +e; wait "$apid"; rc=$?; set -e; apid=
check "serve --role admin exits 0 on SIGTERM" [ "$rc" -eq 0 ]
finish
