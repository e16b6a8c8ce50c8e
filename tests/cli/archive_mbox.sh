#!/usr/bin/env bash
# `listkeeper archive import|export`: an mbox with threads (In-Reply-To,
# References, a reply whose parent comes later, one threaded by subject),
# quoted ">From " lines, CRLF, an attachment, an X-No-Archive post and a bad
# message: the bad one is reported by its line and number and the rest is
# imported; a second import stores nothing twice; the export gives back the
# same messages (Python's mailbox and email read both sides), and an import
# of the export exports byte for byte the same; the Message-ID-Hash is
# Mailman 3's; search folds diacritics.
LK=$1
. "$(dirname "$0")/lib.bash"

lk init --dir "$T" >/dev/null
lk list create talk >/dev/null
lk list create copy >/dev/null
mbox="$T/in.mbox"
python3 - "$mbox" <<'PY'
import sys
out = open(sys.argv[1], "wb")
def msg(i, extra="", body=None, subject=None, date=None, crlf=False):
    s = subject or f"Topic {i}"
    h = (f"From sender{i}@example.org Mon Nov  2 10:00:00 2026\n"
         f"Message-ID: <m{i}@example.org>\nFrom: Person {i} <p{i}@example.org>\n"
         f"Subject: {s}\nDate: {date or f'Mon, 0{1 + i % 9} Nov 2026 10:{i:02d}:00 +0000'}\n{extra}\n")
    b = body or f"Message number {i}.\n"
    m = h + b
    if crlf:
        first, rest = m.split("\n", 1)
        m = first + "\n" + rest.replace("\n", "\r\n")
    out.write(m.encode() + b"\n")
for i in range(1, 21):
    msg(i)
msg(21, "In-Reply-To: <m1@example.org>\n", subject="Re: Topic 1")
msg(22, "References: <m1@example.org> <m21@example.org>\n", subject="Re: Topic 1")
msg(23, "In-Reply-To: <m24@example.org>\n", subject="Re: later parent")  # parent comes next
msg(24, subject="later parent")
msg(25, subject="RE: [talk] Topic 2")                                  # subject fallback
msg(26, body="Quoted lines:\n>From the start\n>>From deeper\nend\n")
msg(27, "X-No-Archive: yes\n")
out.write(b"From bad@example.org Mon Nov  2 10:00:00 2026\n\nthis is no mail at all\n\n")
msg(28, crlf=True)
msg(29, "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=BB\n",
    body="--BB\nContent-Type: text/plain; charset=utf-8\n\nLe caf\u00e9 cr\u00e8me est pr\u00eat.\n"
         "--BB\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"data.bin\"\n"
         "Content-Transfer-Encoding: base64\n\nAAECAwQ=\n--BB--\n")
PY
check "the mbox was written" test -s "$mbox"

set +e
out=$(lk archive import talk "$mbox" 2>"$T/err"); rc=$?
set -e
check "import exits 65 when a message was bad" test "$rc" = 65
check "the bad message is reported by line and number" grep -q "in.mbox:[0-9]*: message 28: not a mail message" "$T/err"
check "the count says what happened" grep -q "30 messages: 28 archived, 0 already there, 1 not to be archived, 1 bad" <<<"$out"
set +e
out=$(lk archive import talk "$mbox" 2>/dev/null)
set -e
check "a second import stores nothing twice" grep -q "30 messages: 0 archived, 28 already there" <<<"$out"

db="$T/listkeeper.db"
tid() { sqlite3 "$db" "SELECT thread_id FROM archive WHERE message_id='$1'"; }
id() { sqlite3 "$db" "SELECT id FROM archive WHERE message_id='$1'"; }
check "In-Reply-To threads a reply" test "$(tid m21@example.org)" = "$(id m1@example.org)"
check "References thread a reply" test "$(tid m22@example.org)" = "$(id m1@example.org)"
check "a reply archived before its parent joins the parent's thread" test "$(tid m23@example.org)" = "$(id m24@example.org)"
check "the subject threads a reply without headers" test "$(tid m25@example.org)" = "$(id m2@example.org)"
want=$(python3 -c 'import base64,hashlib;print(base64.b32encode(hashlib.sha1(b"m29@example.org").digest()).decode())')
check "the permalink hash is Mailman 3's Message-ID-Hash" test "$(sqlite3 "$db" "SELECT hash FROM archive WHERE message_id='m29@example.org'")" = "$want"
check "search folds diacritics (cafe finds café)" test "$(sqlite3 "$db" "SELECT count(*) FROM archive_fts WHERE archive_fts MATCH 'cafe creme'")" = 1
check "the attachment is kept decoded" test "$(sqlite3 "$db" "SELECT hex(data) FROM archive_parts")" = 0001020304

lk archive export talk -o "$T/out.mbox" >/dev/null
check "export writes the file" test -s "$T/out.mbox"
check "a month's export holds that month only" test "$(lk archive export talk --month 2026-10 | wc -c)" = 0
python3 - "$mbox" "$T/out.mbox" <<'PY' >"$T/cmp" 2>&1
import mailbox, sys, email, email.policy
def msgs(p):
    d = {}
    for m in mailbox.mbox(p):
        mid = m.get("Message-ID")
        if mid:
            d[mid] = m
    return d
a, b = msgs(sys.argv[1]), msgs(sys.argv[2])
a.pop("<m27@example.org>")               # X-No-Archive
bad = 0
if set(a) != set(b):
    print("sets differ", sorted(set(a) ^ set(b))); bad = 1
for k in a:
    if k in b and a[k].as_bytes().replace(b"\r\n", b"\n") != b[k].as_bytes().replace(b"\r\n", b"\n"):
        print("differs", k); bad = 1
print("same" if not bad else "different")
PY
check "the export holds the same messages as the mbox" grep -qx same "$T/cmp"
lk archive import copy "$T/out.mbox" >/dev/null
lk archive export copy -o "$T/again.mbox" >/dev/null
check "import of the export, exported again, is byte for byte the same" cmp -s "$T/out.mbox" "$T/again.mbox"
check "export of an unknown list fails" bash -c "! '$LK' -c '$T/listkeeper.conf' archive export nosuch 2>/dev/null"
finish
