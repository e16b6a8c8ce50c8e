#!/usr/bin/env bash
# Dual DKIM signing (RFC 8463): with [dkim] selector (RSA) and selector2
# (Ed25519) every message of a campaign carries both signatures, and an
# independent verifier (dkimpy, python3-dkim) checks each against its DNS
# record as `dkim keygen` printed it; a changed body breaks both. The
# campaign is composed and signed on three worker threads, every message
# once. selector2 without selector, or a second key that does not load,
# stops `send --wait` with 78 before anything is sent.
LK=$1
. "$(dirname "$0")/lib.bash"
PY=/usr/bin/python3 # Debian's, with python3-dkim and python3-nacl
"$PY" -c 'import dkim, nacl' 2>/dev/null || { echo "python3-dkim or python3-nacl missing"; exit 1; }

lk init --dir "$T" --domain lists.example.org >/dev/null
export LISTKEEPER_LOG_LEVEL=warn
txt_of() { sed -n 's/^  value: //p' <<<"$1"; }
rsa_txt=$(txt_of "$(lk dkim keygen rsa1 --type rsa)")
ed_txt=$(txt_of "$(lk dkim keygen ed1 --type ed25519)")
lk list create news --title "News" --postal-address "1 Main St" >/dev/null
{
  echo email,name
  for i in $(seq 1 20); do echo "r$i@example.org,Reader $i"; done
} >"$T/people.csv"
lk import news "$T/people.csv" --confirmed --consent-note test >/dev/null
echo 'Hello {{name}}, dual signed.' >"$T/body.txt"

export LISTKEEPER_DELIVERY_WORKERS=3
lk_dual() {
  LISTKEEPER_DKIM_SELECTOR=rsa1 LISTKEEPER_DKIM_KEY_FILE=dkim-rsa1.pem \
    LISTKEEPER_DKIM_SELECTOR2=ed1 LISTKEEPER_DKIM_KEY_FILE2=dkim-ed1.pem lk "$@"
}

# Refusals first: nothing may be sent by them.
rc=0
LISTKEEPER_DKIM_SELECTOR2=ed1 LISTKEEPER_DKIM_KEY_FILE2=dkim-ed1.pem \
  lk send news --subject S --text "$T/body.txt" --wait >/dev/null 2>"$T/err" || rc=$?
check "selector2 without selector: exit 78" [ "$rc" -eq 78 ]
check "selector2 without selector: says why" grep -q "selector2" "$T/err"
rc=0
LISTKEEPER_DKIM_SELECTOR=rsa1 LISTKEEPER_DKIM_KEY_FILE=dkim-rsa1.pem \
  LISTKEEPER_DKIM_SELECTOR2=ed1 LISTKEEPER_DKIM_KEY_FILE2=missing.pem \
  lk send news --subject S --text "$T/body.txt" --wait >/dev/null 2>"$T/err" || rc=$?
check "a second key that does not load: exit 78" [ "$rc" -eq 78 ]
check "nothing sent by the refusals" [ -z "$(ls -A "$T/outbox/new" 2>/dev/null)" ]
lk job ls | awk 'NR > 1 { print $1 }' | while read -r id; do lk job cancel "$id" >/dev/null; done

lk_dual send news --subject 'Hi {{name}}' --text "$T/body.txt" --wait >/dev/null
n=$(ls "$T/outbox/new" | wc -l)
check "20 messages written" [ "$n" -eq 20 ]
check "each recipient once" [ "$(grep -lh '^To: ' "$T"/outbox/new/* | xargs grep -h '^To: ' | sort -u | wc -l)" -eq 20 ]

cat >"$T/verify.py" <<'PY'
import sys, dkim
records = {b"rsa1._domainkey.lists.example.org.": sys.argv[1].encode(),
           b"ed1._domainkey.lists.example.org.": sys.argv[2].encode()}
def dns(name, timeout=5):
    return records.get(name if name.endswith(b".") else name + b".", None)
tamper = sys.argv[3] == "tamper"
for path in sys.argv[4:]:
    raw = open(path, "rb").read()
    # the Maildir relay writes LF line ends and a Return-Path line first
    msg = b"\r\n".join(l for l in raw.split(b"\n")[:-1]
                       if not l.startswith((b"Return-Path:", b"Delivered-To:"))) + b"\r\n"
    if tamper:
        msg = msg.replace(b"dual signed.", b"dual signed!")
    d = dkim.DKIM(msg)
    sigs = [v for k, v in d.headers if k.lower() == b"dkim-signature"]
    algs = sorted(dkim.util.parse_tag_value(s)[b"a"].decode() for s in sigs)
    def ok(i):
        try:
            return d.verify(idx=i, dnsfunc=dns)
        except dkim.ValidationError:
            return False
    res = [ok(i) for i in range(len(sigs))]
    print(path.rsplit("/", 1)[-1], ",".join(algs), " ".join("pass" if r else "fail" for r in res))
PY
out=$("$PY" "$T/verify.py" "$rsa_txt" "$ed_txt" plain "$T"/outbox/new/*)
check "every message has one rsa-sha256 and one ed25519-sha256 signature" \
  [ "$(grep -c ' ed25519-sha256,rsa-sha256 ' <<<"$out")" -eq 20 ]
check "both signatures of every message verify" [ "$(grep -c ' pass pass$' <<<"$out")" -eq 20 ]
out=$("$PY" "$T/verify.py" "$rsa_txt" "$ed_txt" tamper "$T"/outbox/new/*)
check "a changed body fails both" [ "$(grep -c ' fail fail$' <<<"$out")" -eq 20 ]
finish
