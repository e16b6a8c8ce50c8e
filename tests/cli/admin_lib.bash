# Shared by the admin interface's scenario tests (admin_web.sh, admin_api.sh):
# source after lib.bash. Starts nothing by itself; a server still running at
# exit is killed.
#
#   admin_serve          starts `serve --role admin` on a free port (pid $apid,
#                        log $T/alog) and waits for its URL: sets aurl
#   areq PATH [CURL-ARG...]  status on stdout; headers in $T/h, body in $T/b
#   csrf_in [ACTION]     the CSRF field of the form in $T/b that posts to
#                        ACTION (default: the first form)
#   sign_in NAME PASSWORD    signs in; prints the session cookie's value
#   q SQL                runs SQL on the store
kill_at_exit apid
aurl=
admin_serve() {
  : >"$T/aout"
  LISTKEEPER_ADMIN_LISTEN=127.0.0.1:0 "$LK" serve --role admin >"$T/aout" 2>>"$T/alog" &
  apid=$!
  for _ in $(seq 400); do
    aurl=$(sed -n 's|^listkeeper: admin at \(http://127\.0\.0\.1:[0-9]*\)/$|\1|p' "$T/aout")
    [ -n "$aurl" ] && return 0
    kill -0 "$apid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
areq() {
  local p=$1; shift
  curl -s --max-time 20 -D "$T/h" -o "$T/b" -w '%{http_code}' "$@" "$aurl$p"
}
csrf_in() {
  python3 - "$T/b" "${1:-}" <<'PY'
import re, sys
html = open(sys.argv[1], encoding="utf-8", errors="replace").read()
for m in re.finditer(r'<form[^>]*>(.*?)</form>', html, re.S):
    if sys.argv[2] and 'action="%s"' % sys.argv[2] not in m.group(0)[:200]:
        continue
    c = re.search(r'name="csrf" value="([^"]*)"', m.group(1))
    if c:
        print(c.group(1)); break
PY
}
sign_in() {
  areq /login >/dev/null
  local c; c=$(csrf_in)
  areq /login --data-urlencode "csrf=$c" --data-urlencode "name=$1" \
    --data-urlencode "password=$2" >/dev/null
  sed -n 's/^Set-Cookie: lk_admin=\([0-9a-f]*\);.*/\1/p' "$T/h" | tr -d '\r'
}
q() { sqlite3 "$T/listkeeper.db" "$1"; }
