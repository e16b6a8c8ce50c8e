#!/usr/bin/env bash
# A recipient repeated in one LMTP transaction is one recipient (RFC 2033
# 4.2: a reply for each RCPT, 250; not a handling for each): five RCPT TO of
# one VERP bounce address score the bounce once, as one RCPT does, and do
# not disable the subscriber; 100 RCPT TO of LIST-request@ (the most one
# transaction takes) queue one answer, however high [intake]
# replies_per_hour is. Raw sockets, to `serve --role intake`.
LK=$1
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/intake_lib.bash" # lmtp_serve, verp_map, verp, q
B="$(dirname "$(readlink -f "$0")")/../intake/bounces"

lk init --dir "$T" --domain lists.example.org >/dev/null
export LISTKEEPER_DELIVERY_RELAY="maildir:$T/out" LISTKEEPER_LOG_LEVEL=info
export LISTKEEPER_INTAKE_REPLIES_PER_HOUR=1000
lk list create news >/dev/null
printf 'email\nfive@example.org\none@example.org\n' >"$T/people.csv"
lk import news "$T/people.csv" --confirmed --consent-note test >/dev/null
printf 'Hello\n' >"$T/body.txt"
timeout 60 "$LK" send news --subject "Issue 1" --text "$T/body.txt" --wait >/dev/null
verp_map
sid() { awk -v w="$1" '$1 == w { print $2 }' "$T/map"; }
score() { q "SELECT bounce_score FROM subscriptions WHERE subscriber_id = $(sid "$1")"; }
state() { q "SELECT state FROM subscriptions WHERE subscriber_id = $(sid "$1")"; }
bounce_for() { sed -e "s/news-bounces+[a-z2-7]*@lists.example.org/$(verp "$1")/g" "$2" >"$T/msg.eml"; }
# rcpts N ADDR FROM FILE: one transaction, N x RCPT TO:<ADDR>; prints the
# replies to the RCPTs and, after the dot, one line each ("rcpt CODE",
# "data CODE")
rcpts() {
  python3 - "$port" "$@" <<'PY'
import socket, sys
port, n, addr, frm, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
s = socket.create_connection(("127.0.0.1", port), timeout=20)
f = s.makefile("rb")
def line():
    l = f.readline()
    if not l:
        sys.exit("connection closed")
    return l.decode()
def reply():
    while True:
        l = line()
        if l[3:4] != "-":
            return l[:3]
reply()
msg = open(path, "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
s.sendall(b"LHLO t\r\nMAIL FROM:<" + frm.encode() + b">\r\n" + b"".join(b"RCPT TO:<" + addr.encode() + b">\r\n" for _ in range(n)) + b"DATA\r\n")
reply(); reply()
for _ in range(n):
    print("rcpt", reply())
print("354" if reply() == "354" else "no 354")
s.sendall(msg + (b"" if msg.endswith(b"\r\n") else b"\r\n") + b".\r\n")
for _ in range(n):
    print("data", reply())
s.sendall(b"QUIT\r\n")
PY
}
check "serve --role intake is up" lmtp_serve intake

# --- one bounce, five RCPT TO ---------------------------------------------
bounce_for one "$B/postfix-dsn-hard.eml"
rcpts 1 "$(verp one)" "" "$T/msg.eml" >"$T/r1"
bounce_for five "$B/postfix-dsn-hard.eml"
rcpts 5 "$(verp five)" "" "$T/msg.eml" >"$T/r5"
check "five RCPT TO of one address: 250 for each" [ "$(grep -c '^rcpt 250' "$T/r5")" = 5 ]
check "... and, after the dot, 250 for each" [ "$(grep -c '^data 250' "$T/r5")" = 5 ]
check "one bounce scored for one RCPT" eventually '[ "$(score one)" = 1 ]'
check "the five scored once too" eventually '[ "$(score five)" = 1 ]'
sleep 1 # the worker has handled the spool: nothing more comes
check "... and stay scored once (not 5)" [ "$(score five)" = 1 ]
check "... and the subscriber is still active (not disabled)" [ "$(state five)" = 1 ]

# --- one command, 100 RCPT TO ---------------------------------------------
printf 'From: asker@example.org\r\nTo: news-request@lists.example.org\r\nSubject: help\r\nMessage-ID: <ask1@example.org>\r\n\r\nhelp\r\n' >"$T/help.eml"
replies() { q "SELECT count(*) FROM jobs WHERE kind = 'reply'"; }
before=$(replies)
rcpts 100 news-request@lists.example.org asker@example.org "$T/help.eml" >"$T/r100"
check "100 RCPT TO of LIST-request@: 250 for each" [ "$(grep -c '^rcpt 250' "$T/r100")" = 100 ]
check "... and 250 for each after the dot" [ "$(grep -c '^data 250' "$T/r100")" = 100 ]
check "one answer is queued" eventually "[ \"\$(replies)\" = $((before + 1)) ]"
sleep 1
check "... and only one" [ "$(replies)" = $((before + 1)) ]
check "the spool is empty: nothing left to handle" \
  [ "$(sqlite3 "$T/listkeeper-spool.db" 'SELECT count(*) FROM intake_spool')" = 0 ]

finish
