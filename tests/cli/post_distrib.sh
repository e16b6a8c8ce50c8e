#!/usr/bin/env bash
# Posts to a discussion list end to end (the content filters are
# post_filters.sh's): posts go in with swaks over LMTP (to `serve --role
# intake`) and through `listkeeper inject`; the delivery role of the same
# serve sends the distributions and notices into a Maildir, read back with
# Python's email module. A member's post reaches every member once with the
# list's headers and their own footer; a reply keeps its subject; a post
# without Message-ID gets one; a non-member's post is held, sealed, and the
# owner told; a loop and a too-big post are not distributed.
LK=$1
. "$(dirname "$0")/lib.bash"
kill_at_exit lock_pid

lk init --dir "$T" --domain lists.example.org >/dev/null
export LISTKEEPER_DELIVERY_RELAY="maildir:$T/out" LISTKEEPER_LOG_LEVEL=info
rsa_txt=$(lk dkim keygen rsa1 --type rsa | sed -n 's/^  value: //p')
export LISTKEEPER_DKIM_SELECTOR=rsa1 LISTKEEPER_DKIM_KEY_FILE=dkim-rsa1.pem
. "$(dirname "$0")/post_lib.bash"
post_setup
# settle_club WHO: intake_lib's settle, through club-request@
settle_club() {
  lmtp club-request@lists.example.org "$(msg "$1" help '')" >/dev/null
  eventually "[ \"\$(to_count '$1')\" -ge 1 ]" || bad "settle: no answer to $1"
}

# A member's post over LMTP: to both members, once each.
f=$(msg 'Ann <ann@example.org>' 'Hello all' 'First line\nsecond line')
sed -i 's/^To: .*/To: club@lists.example.org/' "$f"
out=$(lmtp club@lists.example.org "$f")
check "LMTP post from a member: 250 (not 451 any more)" grep -q "<-  *250 2.0.0" <<<"$out"
check "the post reaches both members" eventually '[ "$(n_got "Hello all")" = 2 ]'
check "each member once" [ "$(got "Hello all" | cut -d' ' -f1 | sort -u | tr '\n' ' ')" = "ann@example.org bob@example.org " ]
python3 - "$T/out/new" > "$T/check.out" <<'PY' || true
import email, email.policy, os, re, sys
d = sys.argv[1]
ms = {}
for f in os.listdir(d):
    raw = open(os.path.join(d, f), "rb").read()
    m = email.message_from_bytes(raw, policy=email.policy.default)
    if "Hello all" in str(m["Subject"]):
        ms[m["Delivered-To"].strip("<> ")] = (m, raw)
m, raw = ms["bob@example.org"]
a, _ = ms["ann@example.org"]
def say(k, v): print(f"{k}={v}")
say("subject", m["Subject"])
say("list_id", m["List-Id"])
say("list_post", m["List-Post"])
say("precedence", m["Precedence"])
say("beenthere", m["X-BeenThere"])
say("unsub_https", bool(re.search(r"<https?://[^>]+/u/[^>]+>", str(m["List-Unsubscribe"]))))
say("unsub_mailto", bool(re.search(r"<mailto:club-unsubscribe\+[^>]+@lists.example.org>", str(m["List-Unsubscribe"]))))
say("one_click", m["List-Unsubscribe-Post"])
say("personal", m["List-Unsubscribe"] != a["List-Unsubscribe"])
say("msgid_kept", m["Message-ID"] == a["Message-ID"] and m["Message-ID"].endswith("@example.org>"))
say("from_kept", m["From"])
say("to_kept", m["To"])
body = m.get_body(("plain",)).get_content()
say("body_kept", body.startswith("First line\nsecond line\n"))
say("footer", "Be kind." in body and "Unsubscribe: http" in body and "1 Main St" in body)
say("verp", m["Return-Path"].startswith("<club-bounces+"))
PY
for kv in "subject=[club] Hello all" "list_id=\"The Club\" <club.lists.example.org>" \
  "list_post=<mailto:club@lists.example.org>" "precedence=list" "beenthere=club@lists.example.org" \
  "unsub_https=True" "unsub_mailto=True" "one_click=List-Unsubscribe=One-Click" "personal=True" \
  "msgid_kept=True" "from_kept=Ann <ann@example.org>" "to_kept=club@lists.example.org" \
  "body_kept=True" "footer=True" "verp=True"; do
  check "distributed: $kv" grep -qxF "$kv" "$T/check.out"
done

check "the post is in the list's archive, as distributed (no member's footer)" \
  [ "$(q "SELECT count(*) FROM archive WHERE subject = '[club] Hello all' AND CAST(raw AS TEXT) NOT LIKE '%Unsubscribe:%'")" = 1 ]

# A reply through inject: the prefix is not doubled; no Message-ID: one added.
f=$(msg 'bob@example.org' 'Re: [club] Hello all' 'Me too')
sed -i '/^Message-ID:/d' "$f"
check "inject a reply from a member: exit 0" [ "$(inject club@lists.example.org "$f")" = 0 ]
check "the reply reaches both members" eventually '[ "$(n_got "Re: [club] Hello all")" = 2 ]'
check "its subject keeps one prefix" [ "$(got "Re: [club] Hello all" | cut -d'|' -f2 | sort -u)" = " Re: [club] Hello all" ]
check "a post without Message-ID gets one" bash -c "grep -l 'Me too' '$T'/out/new/* | xargs grep -qi '^Message-ID: <j0\.r\.[0-9a-f]*@lists.example.org>'"

# A non-member's post: held, the owner told, nobody else gets it.
f=$(msg 'eve@example.org' 'Buy now' 'Hi')
check "inject a non-member's post: exit 0" [ "$(inject club@lists.example.org "$f")" = 0 ]
check "the owner is told it is held" eventually '[ "$(n_got "is held for the moderators")" = 1 ]'
check "the notice goes to the owner only" [ "$(got "is held for the moderators" | cut -d' ' -f1)" = boss@example.org ]
check "the held table has the post, sealed" [ "$(q "SELECT count(*) FROM held WHERE reason = 'non-member'")" = 1 ]
check "its sender is not in the table in clear" bash -c "! sqlite3 '$DB' \"SELECT hex(data) FROM held\" | grep -qi \"$(printf eve@example.org | od -An -tx1 | tr -d ' \n')\""
check "the held post went to no member" [ "$(n_got "Buy now")" = 0 ]

# A loop (our own List-Id) and a post over max_message_kb: not distributed.
f=$(msg 'ann@example.org' 'Loop' 'x' 'List-Id: The Club <club.lists.example.org>')
check "a loop: inject exit 0 (discarded)" [ "$(inject club@lists.example.org "$f")" = 0 ]
f=$(msg 'ann@example.org' 'Big one' "$(head -c 3000 /dev/zero | tr '\0' x)")
rc=$(LISTKEEPER_POST_MAX_MESSAGE_KB=1 inject club@lists.example.org "$f")
check "over [post] max_message_kb: inject exits 65" [ "$rc" = 65 ]
settle_club probe@example.org
check "the loop and the big post went to nobody" [ "$(n_got "Loop")$(n_got "Big one")" = 00 ]
# DMARC: a post From a domain with p=reject (an owner's: owners may post)
# goes out From the list, the poster in Reply-To and X-Original-From.
lk list set club owners boss@example.org,carol@strict.example >/dev/null
f=$(msg 'Carol <carol@strict.example>' 'Strict domain' 'From a p=reject domain')
check "inject a post From a p=reject domain: exit 0" [ "$(inject club@lists.example.org "$f")" = 0 ]
check "it reaches both members" eventually '[ "$(n_got "Strict domain")" = 2 ]'
python3 - "$T/out/new" > "$T/dmarc.out" <<'PY' || true
import email, email.policy, os, sys
d = sys.argv[1]
for f in os.listdir(d):
    m = email.message_from_binary_file(open(os.path.join(d, f), "rb"), policy=email.policy.default)
    if "Strict domain" in str(m["Subject"]) and "bob@" in m["Delivered-To"]:
        print(f"from={m['From']}"); print(f"reply_to={m['Reply-To']}"); print(f"orig={m['X-Original-From']}")
PY
check "munged: From is the list's" grep -qxF 'from=Carol via The Club <club@lists.example.org>' "$T/dmarc.out"
check "munged: Reply-To the poster" grep -qxF 'reply_to=Carol <carol@strict.example>' "$T/dmarc.out"
check "munged: X-Original-From" grep -qxF 'orig=Carol <carol@strict.example>' "$T/dmarc.out"
# Every distribution is signed by the list (d= its domain), and the
# signature verifies with dkimpy (python3-dkim), the munged one too.
cat >"$T/verify.py" <<'PY'
import sys, dkim
rec = sys.argv[1].encode()
def dns(name, timeout=5):
    return rec if name.rstrip(b".") == b"rsa1._domainkey.lists.example.org" else None
for path in sys.argv[2:]:
    raw = open(path, "rb").read()
    # the Maildir relay writes LF line ends and its Return-Path and Delivered-To first
    msg = b"\r\n".join(l for l in raw.split(b"\n")[:-1]
                       if not l.startswith((b"Return-Path:", b"Delivered-To:"))) + b"\r\n"
    if b"List-Id:" not in msg:
        continue  # notices and replies are not distributions
    d = dkim.DKIM(msg)
    try:
        ok = d.verify(dnsfunc=dns)
    except dkim.ValidationError:
        ok = False
    print("pass" if ok and b"d=lists.example.org" in msg else "fail")
PY
out=$(/usr/bin/python3 "$T/verify.py" "$rsa_txt" "$T"/out/new/* 2>&1)
check "every distribution is DKIM-signed d=lists.example.org and verifies (dkimpy)" \
  bash -c "[ \"\$(grep -c '^pass$' <<<'$out')\" -ge 6 ] && ! grep -qv '^pass$' <<<'$out'"
check "no address in the log" bash -c "! grep -q 'ann@\|bob@\|eve@' '$T/serve.log'"

finish
