# Shared by the scenario tests that drive a live `serve` in the background
# and read its mail back from the Maildir relay $T/out (mail_templates.sh,
# sub_approve.sh, serve.sh, web_*.sh): source it after lib.bash. Starts
# nothing by itself; a server still running at exit is killed.
#
#   web_serve [ARG...] starts `serve ARG...` (pid $pid, stdout $T/serve.out,
#                      stderr appended to $T/log) and waits (20 s at most) for
#                      the URL it prints: sets url (no trailing /); false if
#                      none came
#   must_serve [ARG...] web_serve, or the test ends there, showing the log
#   stop               stops the server whose pid is $pid, if it runs
#   req PATH [CURL-ARG...] status on stdout; headers in $T/h, body in $T/b
#   hdr TEXT           the headers in $T/h hold TEXT
#   csrf_of            the CSRF field of the form in $T/b
#   state_of LIST ADDR ADDR's state on LIST, as `sub ls` shows it
#   mails_to ADDR      how many messages to ADDR the Maildir holds
#   wait_mails_to ADDR N  until it holds N (20 s at most)
#   wait_mails N       until the Maildir holds N messages (20 s at most)
#   newest_to ADDR     the file of the newest message to ADDR
#   body_path FILE PREFIX  the first /PREFIX/TOKEN in its decoded text body
#   mail TO MARKER [N] waits (a minute at most) for the Nth (default first, in
#                      the order they were written) message to TO whose
#                      subject or decoded text holds MARKER; prints its
#                      subject and text
#   has TO MARKER [N]  mail, quietly
kill_at_exit pid
url=
# web_serve [ARG...]: serve in the background; sets url once it is printed
web_serve() {
  : >"$T/serve.out" # now: the wait below must not read an old file, or none (serve truncates it only once it runs)
  "$LK" serve "$@" >"$T/serve.out" 2>>"$T/log" &
  pid=$!
  url=
  for _ in $(seq 400); do
    url=$(sed -n 's|^listkeeper: serving \(https\{0,1\}://127\.0\.0\.1:[0-9]*\)/$|\1|p' "$T/serve.out")
    [ -n "$url" ] && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
# must_serve [ARG...]: web_serve, or the end of the test
must_serve() {
  if web_serve "$@"; then ok "serve printed $url/"; return 0; fi
  bad "serve printed its URL"; cat "$T/log"; finish; exit 1
}
# stop: SIGTERM to $pid, and wait for it
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
# req PATH [CURL-ARG...]: status on stdout; headers in $T/h, body in $T/b
req() {
  local p=$1; shift
  curl -s --max-time 5 -D "$T/h" -o "$T/b" -w '%{http_code}' "$@" "$url$p"
}
hdr() { tr -d '\r' <"$T/h" | grep -qiF -- "$1"; } # hdr TEXT: a header holds TEXT
csrf_of() { sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$T/b" | head -1; } # the page's CSRF field
state_of() { lk sub ls "$1" | awk -v a="$2" '$3 == a { print $2 }'; } # state_of LIST ADDR
# mails_to ADDR: how many messages to ADDR (after a space or <) the Maildir holds
mails_to() { { grep -l -- "^To:.*[< ]$1" "$T"/out/new/* 2>/dev/null || true; } | wc -l; }
wait_mails_to() { eventually "[ \"\$(mails_to '$1')\" -ge $2 ]"; } # wait_mails_to ADDR N (20 s at most)
wait_mails() { eventually "[ \"\$(ls '$T/out/new' 2>/dev/null | wc -l)\" -ge $1 ]"; } # wait_mails N (20 s at most)
# newest_to ADDR: the file of the newest message to ADDR
newest_to() { grep -l -- "^To:.*[< ]$1" "$T"/out/new/* | xargs ls -t | head -1; }
# body_path FILE PREFIX: the first /PREFIX/TOKEN in the decoded text body
# (quoted-printable soft line breaks undone)
body_path() {
  python3 - "$1" "$2" <<'EOF'
import email, re, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
part = next(p for p in m.walk() if p.get_content_type() == "text/plain")
t = part.get_payload(decode=True).decode()
print(re.search(r"/%s/[A-Za-z0-9_-]+" % sys.argv[2], t).group(0))
EOF
}
