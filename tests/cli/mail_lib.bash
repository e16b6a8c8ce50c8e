# Shared by the scenario tests that drive a live `serve` in the background
# and read its mail back from the Maildir relay $T/out (mail_templates.sh,
# sub_approve.sh): source it after lib.bash. Starts nothing by itself.
#
#   stop               stops the server whose pid is $pid, if it runs
#   mail TO MARKER [N] waits (a minute at most) for the Nth (default first, in
#                      the order they were written) message to TO whose
#                      subject or decoded text holds MARKER; prints its
#                      subject and text
#   has TO MARKER [N]  mail, quietly
pid=
stop() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  pid=
}
mail() {
  local end=$((SECONDS + 60))
  while :; do
    python3 - "$T/out/new" "$1" "$2" "${3:-1}" <<'PY' && return 0
import email, email.policy, os, sys
d, to, mark, nth = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
fs = [os.path.join(d, f) for f in os.listdir(d)] if os.path.isdir(d) else []
for f in sorted(fs, key=lambda f: (os.stat(f).st_mtime_ns, f)):
    m = email.message_from_binary_file(open(f, "rb"), policy=email.policy.default)
    t = "Subject: %s\n%s" % (m["Subject"], m.get_body(("plain",)).get_content())
    if to in str(m["To"]) and mark in t:
        nth -= 1
        if nth == 0:
            print(t)
            sys.exit(0)
sys.exit(1)
PY
    [ "$SECONDS" -lt "$end" ] || return 1
    sleep 0.05
  done
}
has() { mail "$@" >/dev/null; }
