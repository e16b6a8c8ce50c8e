#!/usr/bin/env bash
# bench/bounces.sh: the bounce classifier on the corpus of
# tests/intake/bounces/ (expected.tsv: each file's class as a person reads
# it), side by side with flufl.bounce (GNU Mailman 3's bounce detector,
# Debian's python3-flufl.bounce) on the same files, against the targets of
# issue 14:
#   - at least 95% of the address-gone messages classed gone;
#   - at most 5% of the sender-side rejections (sender-policy,
#     rejected-content) classed gone, i.e. scored against a good subscriber;
#   - no crash.
# flufl.bounce has no classes: a message counts as "gone" for it when it
# finds a permanent failure (what Mailman scores as a bounce), and as
# crashed when it raises. Exits 1 when one of our targets is missed.
#   usage: bench/bounces.sh PATH/TO/listkeeper
set -euo pipefail
lk=$(readlink -f "${1:?listkeeper binary}")
here=$(dirname "$(readlink -f "$0")")
dir="$here/../tests/intake/bounces"
py=/usr/bin/python3 # Debian's, where python3-flufl.bounce lives
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT

grep -v '^#' "$dir/expected.tsv" | cut -f1,2 > "$w/expected"
cut -f1 "$w/expected" > "$w/files"

# ours: FILE CLASS ... per line; a file with no line crashed or failed
(cd "$dir" && xargs -d '\n' "$lk" intake classify < "$w/files") > "$w/ours" 2> "$w/ours.err" || true

"$py" - "$dir" "$w/files" > "$w/flufl" <<'PY'
import sys, email
from email import policy
from flufl.bounce import all_failures
d, files = sys.argv[1], open(sys.argv[2]).read().split('\n')
for f in filter(None, files):
    try:
        m = email.message_from_binary_file(open(f"{d}/{f}", "rb"))
        temporary, permanent = all_failures(m)
        print(f, "gone" if permanent else "temporary" if temporary else "none", sep="\t")
    except Exception as e:  # a crash of the detector: counted, not fatal
        print(f, "crash", sep="\t")
PY

"$py" - "$w/expected" "$w/ours" "$w/flufl" <<'PY'
import sys
exp = dict(l.split('\t')[:2] for l in open(sys.argv[1]).read().splitlines() if l)
ours = {l.split('\t')[0]: l.split('\t')[1] for l in open(sys.argv[2]).read().splitlines() if l}
fl = dict(l.split('\t') for l in open(sys.argv[3]).read().splitlines() if l)
gone = [f for f, c in exp.items() if c == 'gone']
side = [f for f, c in exp.items() if c in ('sender-policy', 'rejected-content')]
def pct(n, d): return 100.0 * n / d if d else 0.0
def row(name, got):
    g = sum(got.get(f) == 'gone' for f in gone)
    s = sum(got.get(f) == 'gone' for f in side)
    crash = sum(1 for f in exp if got.get(f, 'crash') == 'crash')
    return name, g, s, crash
rows = [row('listkeeper', ours), row('flufl.bounce 4.0', fl)]
print(f"corpus: {len(exp)} files, {len(gone)} address-gone, {len(side)} sender-side rejections")
print(f"{'':18} {'gone classed gone':>22} {'sender-side classed gone':>26} {'crashes':>8}")
for name, g, s, c in rows:
    print(f"{name:18} {g:>4}/{len(gone):<4} {pct(g, len(gone)):6.1f}%     {s:>4}/{len(side):<4} {pct(s, len(side)):6.1f}%       {c:>5}")
print(f"{'target':18} {'>= 95.0%':>22} {'<= 5.0%':>26} {'0':>8}")
exact = sum(ours.get(f) == c for f, c in exp.items())
print(f"listkeeper's class equals the table's for {exact}/{len(exp)} files")
_, g, s, c = rows[0]
ok = pct(g, len(gone)) >= 95.0 and pct(s, len(side)) <= 5.0 and c == 0
print("targets:", "met" if ok else "MISSED")
sys.exit(0 if ok else 1)
PY
