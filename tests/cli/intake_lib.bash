# Shared by the intake scenario tests (intake_commands.sh,
# intake_commands_more.sh; lmtp.sh and intake_spool.sh use lmtp_serve and
# define the rest their own way): source it after lib.bash and `lk init`. Starts
# nothing by itself: intake_serve starts `serve --role intake --role
# delivery` with its LMTP server on a free loopback port ($port) and the
# replies going into the Maildir $T/out; the helpers send mail with swaks
# (LMTP) or `listkeeper inject`, and read the replies back.
kill_at_exit serve_pid
DB="$T/listkeeper.db"
q() { sqlite3 "$DB" "$1"; }
state() { # state LIST ADDR-LOCALPART: via the CLI (the store holds no address)
  lk person show "$2@example.org" | awk -v l="$1" '$1 == l { print $2 }' | tr -d ,
}

# lmtp_serve ROLE...: `serve --role ROLE...` (the binary $LK) with its LMTP
# server on a free loopback port ($port; pid $serve_pid; stderr appended to
# $T/serve.log); five ports at most; true once it listens there (20 s each)
lmtp_serve() {
  local r roles=()
  for r in "$@"; do roles+=(--role "$r"); done
  for _ in 1 2 3 4 5; do
    port=$(free_port)
    export LISTKEEPER_LMTP_LISTEN=127.0.0.1:$port
    : >"$T/serve.out" # now: the wait below must not read an old file, or none (serve truncates it only once it runs)
    "$LK" serve "${roles[@]}" > "$T/serve.out" 2>> "$T/serve.log" &
    serve_pid=$!
    for _ in $(seq 400); do grep -q "^listkeeper: lmtp on" "$T/serve.out" && break
      kill -0 $serve_pid 2>/dev/null || break; sleep 0.05; done
    grep -q "^listkeeper: lmtp on 127.0.0.1:$port$" "$T/serve.out" && return 0
    kill $serve_pid 2>/dev/null; wait $serve_pid 2>/dev/null || true; serve_pid=
  done
  return 1
}
# verp_map: into $T/map, a line for each message in the Maildir: the local
# part of its To, its subscriber id, VERP sender and List-Unsubscribe mailto
verp_map() {
  python3 - "$T/out/new" > "$T/map" <<'PY'
import email, email.utils, os, re, sys
d = sys.argv[1]
for f in sorted(os.listdir(d)):
    m = email.message_from_binary_file(open(os.path.join(d, f), "rb"))
    to = email.utils.parseaddr(m["To"])[1]
    sid = re.search(r"\.s(\d+)\.", m["Message-ID"]).group(1)
    mailto = re.search(r"<mailto:([^>?]+)", m["List-Unsubscribe"]).group(1)
    print(to.split("@")[0], sid, m["Return-Path"].strip("<> "), mailto)
PY
}
verp() { awk -v w="$1" '$1 == w { print $3 }' "$T/map"; } # verp WHO: the VERP sender of WHO's message
intake_serve() { check "serve --role intake --role delivery is up" lmtp_serve intake delivery; }

# msg FROM SUBJECT BODY [EXTRA-HEADER...]: a message file, printed path.
n=0
msg() {
  n=$((n + 1)); local f="$T/m$n.eml" from=$1 subj=$2 body=$3; shift 3
  { echo "From: $from"; echo "To: x@lists.example.org"; echo "Subject: $subj"
    echo "Message-ID: <m$n@example.org>"; for h in "$@"; do echo "$h"; done
    echo; printf '%b\n' "$body"; } > "$f"
  echo "$f"
}
# lmtp TO FILE [ENVELOPE-FROM]: swaks over LMTP; prints the transcript.
lmtp() {
  [ -n "$1" ] || { echo "lmtp: no recipient"; return 0; }
  swaks --server 127.0.0.1 --port "$port" --protocol LMTP --helo test.example \
    --from "${3:-sender@example.org}" --to "$1" --data "@$2" --timeout 20 </dev/null 2>&1 || true
}
inject() { # inject TO FILE: exit status of listkeeper inject
  local rc=0; LISTKEEPER_LOG_LEVEL=warn "$LK" inject --recipient "$1" --sender sender@example.org < "$2" || rc=$?; echo $rc
}
count() { ls "$T/out/new" 2>/dev/null | wc -l; }
# wait_for N: until the Maildir holds N messages (the delivery role sends them;
# 20 s at most: a loaded machine with the sanitizers is slow).
wait_for() { for _ in $(seq 400); do [ "$(count)" -ge "$1" ] && return 0; sleep 0.05; done; return 1; }
# last TO: the newest message to TO, decoded: headers, a blank line, the text.
# last TO REPLY-TO-ONLY: the same among messages with a Reply-To.
last() {
  python3 - "$T/out/new" "$1" "${2:-}" <<'PY'
import email, email.policy, os, sys
d, to, rt = sys.argv[1], sys.argv[2], sys.argv[3]
ms = []
for f in os.listdir(d):
    m = email.message_from_binary_file(open(os.path.join(d, f), "rb"), policy=email.policy.default)
    if m["To"] and to in str(m["To"]) and (not rt or m["Reply-To"]):
        ms.append((os.stat(os.path.join(d, f)).st_mtime_ns, f, m))
if not ms:
    sys.exit(1)
m = sorted(ms)[-1][2]
for h in ("From", "To", "Reply-To", "Subject", "Auto-Submitted", "Return-Path", "List-Id"):
    if m[h] is not None:
        print(f"{h}: {m[h]}")
print()
print(m.get_body(("plain",)).get_content())
PY
}
to_count() { { grep -l "^To: .*$1" "$T"/out/new/* 2>/dev/null || true; } | wc -l; }
reply_to_token() { last "$1" | sed -n 's/^Reply-To: .*+\([A-Za-z0-9_-]*\)@.*/\1/p'; }
reply_to() { last "$1" rt | sed -n 's/^Reply-To: //p'; }

# settle WHO: a HELP from WHO (an address used for nothing else) over LMTP,
# until its answer is in the Maildir. The spool worker handles messages in
# the order they were accepted, and the delivery role sends the single
# messages in the order they were queued: so every message accepted before
# it has been handled and everything it queued has been sent. (An inject is
# handled by its own process, and proves nothing about the LMTP messages.)
settle() {
  lmtp news-request@lists.example.org "$(msg "$1" help '')" >/dev/null
  eventually "[ \"\$(to_count '$1')\" -ge 1 ]" || bad "settle: no answer to $1"
}
