#!/usr/bin/env bash
# P3 in the archive: `person erase` redacts a person's posts on a list with
# archive_erase = redact (the default) and removes them on one with remove;
# what others wrote about them (a quoted attribution, a Cc) is redacted
# too. Afterwards a byte scan of the database and its WAL finds neither the
# address nor the name (the search index rewritten, FTS5 'optimize', then
# the WAL scrubbed), and the search finds none of their words of name; an
# address that only posted (no subscriber) is erased from the archive too.
LK=$1
. "$(dirname "$0")/lib.bash"

lk init --dir "$T" >/dev/null
lk list create talk >/dev/null
lk list create gone >/dev/null
lk list set gone archive_erase remove >/dev/null
check "list show says archive_erase" bash -c "'$LK' list show gone | grep -q 'archive_erase.*remove'"
A=zq-archived-7741@example.org; N="Quirinus Zebulon-Archer"
B=zq-poster-only-9313@example.net; NB="Xenia Postonly"
lk sub add talk "$A" --name "$N" --confirmed --consent-note "paper form" >/dev/null
python3 - "$T/in.mbox" "$A" "$N" "$B" "$NB" <<'PY'
import sys
path, a, n, b, nb = sys.argv[1:]
out = open(path, "w")
def msg(i, frm, body, extra=""):
    out.write(f"From x Mon Nov  2 10:00:00 2026\nMessage-ID: <e{i}@example.org>\nFrom: {frm}\n"
              f"Subject: Post {i}\nDate: Mon, 02 Nov 2026 10:{i:02d}:00 +0000\n{extra}\n{body}\n\n")
msg(1, f"{n} <{a}>", "A first post about gardening.\n")
msg(2, f"Kept Person <kept@example.org>", f"On Monday, {n} <{a}> wrote:\n> gardening\nYes.\n", f"Cc: {n} <{a}>\n")
msg(3, f"{nb} <{b}>", "A post by someone who never subscribed.\n")
PY
lk archive import talk "$T/in.mbox" >/dev/null
python3 - "$T/in.mbox" "$T/gone.mbox" <<'PY'
import sys
s = open(sys.argv[1]).read().replace("<e1@", "<g1@").replace("<e2@", "<g2@").replace("<e3@", "<g3@")
open(sys.argv[2], "w").write(s)
PY
lk archive import gone "$T/gone.mbox" >/dev/null
db="$T/listkeeper.db"
files=("$db" "$db-wal")
q() { sqlite3 "$db" "$1"; }
check "before: the archive holds the address" grep -aqF "$A" "$db" "$db-wal"
check "before: the search finds the name" test "$(q "SELECT count(*) FROM archive_fts WHERE archive_fts MATCH 'zebulon'")" = 4

out=$(lk person erase "$A" --yes)
check "erase says what it did to the archive" grep -q "archive: 1 posts removed, 3 redacted" <<<"$out"
out=$(lk person erase "$B" --yes)
check "an address that only posted is erased from the archive" grep -q "archive: 1 posts removed, 1 redacted" <<<"$out"

check "remove: the list's posts by them are gone" test "$(q "SELECT count(*) FROM archive a JOIN lists l ON l.id = a.list_id WHERE l.name = 'gone'")" = 1
check "redact: their posts stay" test "$(q "SELECT count(*) FROM archive a JOIN lists l ON l.id = a.list_id WHERE l.name = 'talk'")" = 3
check "redact: the author is shown as [redacted]" test "$(q "SELECT author FROM archive WHERE message_id = 'e1@example.org'")" = "[redacted]"
check "redact: the text of the post stays" bash -c "'$LK' archive export talk | grep -q 'A first post about gardening.'"
check "redact: a quoted attribution is redacted" bash -c "'$LK' archive export talk | grep -q 'On Monday, \[redacted\] <redacted@invalid> wrote:'"
for w in zebulon quirinus archer xenia postonly; do
  check "the search finds no '$w'" test "$(q "SELECT count(*) FROM archive_fts WHERE archive_fts MATCH '$w'")" = 0
done
for f in "${files[@]}"; do
  [ -e "$f" ] || continue
  for s in "$A" "$N" "Zebulon" "zebulon" "Quirinus" "quirinus" "$B" "$NB" "postonly"; do
    if grep -aqF -- "$s" "$f"; then bad "$(basename "$f") still holds '$s' after erasure"; fi
  done
done
ok "byte scan: no address, name or name word left in the database or WAL"
finish
