#!/usr/bin/env bash
# Email commands end to end, the ones intake_commands.sh leaves out: Mailman's
# subscribe / confirm / help / unsubscribe, CONFIRM with every form of token a
# confirmation mail shows (the link, the Reply-To address, its bare token),
# SET DIGEST / NODIGEST / MAIL / NOMAIL / HTML / TEXT, QUERY *, INDEX, INFO of
# a discussion list, SIGNOFF * (every list, after the confirmation), and
# expired tokens (nothing changes, the answer says so). Messages go in with
# swaks over LMTP and `listkeeper inject`; the answers are read back from the
# Maildir relay. Last, every answer of the run is checked to name no address
# but its recipient's and ours.
LK=$1
. "$(dirname "$0")/lib.bash"

lk init --dir "$T" --domain lists.example.org >/dev/null
export LISTKEEPER_DELIVERY_RELAY="maildir:$T/out" LISTKEEPER_LOG_LEVEL=info
export LISTKEEPER_DELIVERY_RETRY_BASE_SECONDS=1
# Many commands from one address here: the reply limit has its own test.
export LISTKEEPER_INTAKE_REPLIES_PER_HOUR=1000 LISTKEEPER_WEB_CONFIRM_PER_ADDRESS=100
lk list create news --title "News" --postal-address "1 Main St" >/dev/null
lk list create club --title "Club" --description "Talk about the club." --digest yes \
  --kind discussion --postal-address "1 Main St" >/dev/null
lk list create extra --title "Extra" --postal-address "1 Main St" >/dev/null
printf 'email,name\nkeep@example.org,Keep Secret\n' > "$T/p.csv"
for l in news club; do lk import $l "$T/p.csv" --confirmed --consent-note test >/dev/null; done
. "$(dirname "$0")/intake_lib.bash"
intake_serve

# wait_to WHO N: until N messages went to WHO.
wait_to() { for _ in $(seq 400); do [ "$(to_count "$1")" -ge "$2" ] && return 0; sleep 0.05; done; return 1; }
# ask FROM TO BODY: sends the commands over LMTP, waits for everything they
# send to FROM (EXPECT messages, default 1: the answer), prints the answer.
ask() {
  local b; b=$(to_count "$1")
  lmtp "$2" "$(msg "$1" cmds "$3")" >/dev/null
  wait_to "$1" $((b + ${4:-1})) || true
  answer_to "$1"
}
answer_to() { # the newest answer to commands sent to $1
  python3 - "$T/out/new" "$1" <<'PY'
import email, email.policy, os, sys
d, to = sys.argv[1], sys.argv[2]
ms = []
for f in os.listdir(d):
    m = email.message_from_binary_file(open(os.path.join(d, f), "rb"), policy=email.policy.default)
    if to in str(m["To"]) and m["Subject"] == "The answer to your commands":
        ms.append((os.stat(os.path.join(d, f)).st_mtime_ns, f, m))
if ms:
    print(sorted(ms)[-1][2].get_body(("plain",)).get_content())
PY
}
# yes_to ADDR [N]: ada replies to ADDR (a Reply-To); waits for the answer
# (and N-1 more messages to her: a welcome).
yes_to() {
  local b; b=$(to_count ada@example.org)
  lmtp "$1" "$(msg ada@example.org 'Re: x' 'yes')" >/dev/null
  wait_to ada@example.org $((b + ${2:-1})) || true
}
fmt() { lk person show "$1@example.org" | sed -n 's/^format: //p'; }
sub_col() { # sub_col LIST ADDR-LOCALPART COLUMN: digest or nomail of the subscription
  local id; id=$(lk person show "$2@example.org" | sed -n 's/^subscriber //p')
  q "SELECT $3 FROM subscriptions WHERE subscriber_id = $id AND list_id = (SELECT id FROM lists WHERE name = '$1')"
}

# Mailman subscribe on news-request@, confirmed by "confirm LINK" (the link
# of the confirmation mail typed as the token).
r=$(ask ada@example.org news-request@lists.example.org 'subscribe' 2)
check "Mailman subscribe: a request to confirm was sent" grep -q "^SUBSCRIBE news: we sent you a request to confirm" <<<"$r"
check "Mailman subscribe: pending" [ "$(state news ada)" = pending ]
link=$(last ada@example.org rt | grep -o 'https\?://[^ ]*/c/[A-Za-z0-9_-]*' | head -1)
check "the confirmation mail shows a /c/ link" [ -n "$link" ]
r=$(ask ada@example.org news-request@lists.example.org "confirm $link" 2)
check "confirm LINK: subscribed" grep -q "^CONFIRM: news confirmed: you are subscribed" <<<"$r"
check "confirm LINK: active" [ "$(state news ada)" = active ]

# SUBSCRIBE club at listkeeper@, confirmed by CONFIRM with the Reply-To
# address of the confirmation mail, in angle brackets.
ask ada@example.org listkeeper@lists.example.org 'SUBSCRIBE club Ada' 2 >/dev/null
conf=$(reply_to ada@example.org)
check "club's confirmation: Reply-To club-confirm+TOKEN@" grep -q "^club-confirm+[a-z2-7]\{32\}@lists.example.org$" <<<"$conf"
r=$(ask ada@example.org listkeeper@lists.example.org "CONFIRM <$conf>" 2)
check "CONFIRM <club-confirm+TOKEN@...>: subscribed" grep -q "^CONFIRM: club confirmed: you are subscribed" <<<"$r"
check "CONFIRM ADDRESS: active" [ "$(state club ada)" = active ]
# The same token again: nothing more to do, and said so.
r=$(ask ada@example.org listkeeper@lists.example.org "CONFIRM $conf")
check "the same CONFIRM again: confirmed already" grep -q "^CONFIRM: club confirmed already" <<<"$r"

# QUERY *, INDEX, INFO of a discussion list, Mailman help at club-request@.
r=$(ask ada@example.org listkeeper@lists.example.org 'QUERY *\nINDEX\nINFO club')
check "QUERY *: news" grep -q "^QUERY news: subscribed (active), NODIGEST, MAIL, TEXT" <<<"$r"
check "QUERY *: club" grep -q "^QUERY club: subscribed (active), NODIGEST, MAIL, TEXT" <<<"$r"
check "QUERY *: not extra" bash -c "! grep -q '^QUERY extra' <<<'$r'"
check "INDEX: the lists here" [ "$(grep -c '^  [a-z]*@lists.example.org  ' <<<"$r")" = 3 ]
check "INFO club: title, description, kind" grep -Pzq "INFO club: Club\n  Talk about the club.\n  A discussion list. To join, send SUBSCRIBE club to club-request@lists.example.org" <<<"$r"
r=$(ask bob@example.org club-request@lists.example.org 'help')
check "Mailman help at club-request@: the commands" grep -q "SET list DIGEST | NODIGEST | MAIL | NOMAIL | HTML | TEXT" <<<"$r"
r=$(ask bob@example.org listkeeper@lists.example.org 'QUERY *')
check "QUERY * from a stranger: on no list" grep -q "^QUERY \*: this address is on no list here" <<<"$r"

# SET: each asks first (a request with its LIST-confirm+ Reply-To); the
# token typed bare in a CONFIRM line, the list found from its MAC.
r=$(ask ada@example.org listkeeper@lists.example.org 'SET news HTML' 2)
check "SET news HTML: asked" grep -q "^SET news HTML: we sent you a request to confirm" <<<"$r"
check "SET HTML: not yet" [ "$(fmt ada)" = text ]
tok=$(reply_to ada@example.org | sed 's/^news-confirm+\([a-z2-7]*\)@.*/\1/')
check "the SET request's token is 32 characters" [ "${#tok}" = 32 ]
r=$(ask ada@example.org listkeeper@lists.example.org "CONFIRM ${tok^^}")
check "CONFIRM bare token (any case): done" grep -q "^CONFIRM: news done: your setting is changed" <<<"$r"
check "SET HTML confirmed: the format is html" [ "$(fmt ada)" = html ]
check "QUERY says HTML" grep -q "^QUERY news: subscribed (active), NODIGEST, MAIL, HTML" \
  <<<"$(ask ada@example.org news-request@lists.example.org 'query')"
ask ada@example.org club-request@lists.example.org 'set text' 2 >/dev/null
yes_to "$(reply_to ada@example.org)"
check "SET TEXT confirmed by reply: the format is text" [ "$(fmt ada)" = text ]

r=$(ask ada@example.org listkeeper@lists.example.org 'SET news DIGEST')
check "SET DIGEST on a list without digests: refused" grep -q "^SET news DIGEST: this list offers no digest" <<<"$r"
ask ada@example.org club-request@lists.example.org 'set digest' 2 >/dev/null
check "SET club DIGEST: asked, not yet" [ "$(sub_col club ada digest)" = 0 ]
r=$(ask ada@example.org listkeeper@lists.example.org "CONFIRM $(reply_to ada@example.org)")
check "SET club DIGEST confirmed" [ "$(sub_col club ada digest)" = 1 ]
ask ada@example.org club-request@lists.example.org 'set nodigest' 2 >/dev/null
yes_to "$(reply_to ada@example.org)"
check "SET club NODIGEST confirmed" [ "$(sub_col club ada digest)" = 0 ]
ask ada@example.org news-request@lists.example.org 'SET news NOMAIL' 2 >/dev/null
yes_to "$(reply_to ada@example.org)"
check "SET NOMAIL confirmed" [ "$(sub_col news ada nomail)" = 1 ]
ask ada@example.org news-request@lists.example.org 'SET news MAIL' 2 >/dev/null
yes_to "$(reply_to ada@example.org)"
check "SET MAIL confirmed" [ "$(sub_col news ada nomail)" = 0 ]

# Expired tokens, made with the key file as the server would have made them
# a few hours ago: nothing changes, the answer says it expired and what to do.
mac=$(sed -n 's/^mac = //p' "$T/listkeeper.keys")
ada_id=$(lk person show ada@example.org | sed -n 's/^subscriber //p')
news_id=$(q "SELECT id FROM lists WHERE name = 'news'")
mint() { # mint url|addr PURPOSE LIST-ID SUBSCRIBER-ID EXPIRES: a token (crypto/token.h)
  python3 - "$mac" "$@" <<'PY'
import base64, hashlib, struct, sys
key, form, p, l, s, e = bytes.fromhex(sys.argv[1]), sys.argv[2], *map(int, sys.argv[3:])
if form == "url":
    body = struct.pack(">BBQQQ", 1, p, l, s, e)
    mac = hashlib.blake2b(body, digest_size=16, key=key).digest()
    print(base64.urlsafe_b64encode(body + mac).decode().rstrip("="))
else:
    hour = (e + 3599) // 3600
    mac = hashlib.blake2b(b"lk-addr" + struct.pack(">BBQQQ", 2, p, l, s, hour),
                          digest_size=16, key=key).digest()[:12]
    b = bytes([2 << 4 | p]) + s.to_bytes(5, "big") + (hour & 0xFFFF).to_bytes(2, "big") + mac
    print(base64.b32encode(b).decode().lower())
PY
}
past=$(( $(date +%s) - 3 * 3600 ))
# purpose 10 = set-html (crypto/token.h)
url_tok=$(mint url 10 "$news_id" "$ada_id" "$past")
fresh=$(mint url 10 "$news_id" "$ada_id" $((past + 6 * 3600)))
r=$(ask ada@example.org listkeeper@lists.example.org "CONFIRM $url_tok")
check "CONFIRM an expired token: says it expired" grep -q "^CONFIRM: this request has expired, and nothing was changed. Send your command again" <<<"$r"
check "an expired token: nothing changed" [ "$(fmt ada)" = text ]
b=$(to_count ada@example.org)
out=$(lmtp "news-confirm+$(mint addr 10 "$news_id" "$ada_id" "$past")@lists.example.org" "$(msg ada@example.org 'Re: x' 'yes')")
check "a reply to an expired LIST-confirm+ address: taken (250)" grep -q "<-  *250 2.0.0" <<<"$out"
wait_to ada@example.org $((b + 1))
check "a reply to an expired LIST-confirm+ address: says it expired" grep -q "^CONFIRM: this request has expired" <<<"$(answer_to ada@example.org)"
check "a reply to an expired LIST-confirm+ address: nothing changed" [ "$(fmt ada)" = text ]
# The minted tokens are the server's own: the same one, not yet expired, acts.
ask ada@example.org listkeeper@lists.example.org "CONFIRM $fresh" >/dev/null
check "the same token, not expired: acts (the test mints real tokens)" [ "$(fmt ada)" = html ]

# Mailman unsubscribe at club-request@: asks first; "CONFIRM <the /u/ link>"
# leaves. Then SIGNOFF * asks for every list; the replies leave them all.
r=$(ask ada@example.org club-request@lists.example.org 'unsubscribe' 2)
check "Mailman unsubscribe: asked" grep -q "^SIGNOFF club: we sent you a request to confirm" <<<"$r"
check "Mailman unsubscribe: still active" [ "$(state club ada)" = active ]
ulink=$(last ada@example.org rt | grep -o 'https\?://[^ ]*/u/[A-Za-z0-9_-]*' | head -1)
r=$(ask ada@example.org news-request@lists.example.org "confirm $ulink")
check "confirm /u/ LINK: left club" grep -q "^CONFIRM: club done: you have left the list" <<<"$r"
check "confirm /u/ LINK: not on club" [ -z "$(state club ada)" ]
join_extra() {
  ask ada@example.org listkeeper@lists.example.org 'SUBSCRIBE extra' 2 >/dev/null
  yes_to "$(reply_to ada@example.org)" 2
}
join_extra
# SIGNOFF extra: the bare 28-character token of its LIST-unsubscribe+
# Reply-To, in a CONFIRM line.
ask ada@example.org listkeeper@lists.example.org 'SIGNOFF extra' 2 >/dev/null
t1=$(reply_to ada@example.org); t1=${t1#extra-unsubscribe+}; t1=${t1%@*}
check "SIGNOFF's request: a 28-character token" [ "${#t1}" = 28 ]
r=$(ask ada@example.org listkeeper@lists.example.org "CONFIRM $t1")
check "CONFIRM the bare LIST-unsubscribe+ token: left" grep -q "^CONFIRM: extra done: you have left the list" <<<"$r"
check "CONFIRM the bare LIST-unsubscribe+ token: not on extra" [ -z "$(state extra ada)" ]
# SIGNOFF *: one request (not one per list: the reply limit would stop
# them), naming every list; a reply to it leaves them all.
join_extra
check "ada is on news and extra" [ "$(state news ada):$(state extra ada)" = active:active ]
b=$(to_count ada@example.org)
r=$(ask ada@example.org listkeeper@lists.example.org 'SIGNOFF *' 2)
check "SIGNOFF *: asked once" grep -q "^SIGNOFF \*: we sent you a request to confirm" <<<"$r"
settle early@example.org # all it queued has been sent
check "SIGNOFF *: one request and the answer, nothing more" [ "$(to_count ada@example.org)" = $((b + 2)) ]
check "SIGNOFF *: nothing changed yet" [ "$(state news ada):$(state extra ada)" = active:active ]
req=$(last ada@example.org rt)
check "SIGNOFF *: the request names every list" grep -q "leave every list you are on here: news, extra" <<<"$req"
all=$(reply_to ada@example.org)
check "SIGNOFF *: its Reply-To is LIST-confirm+TOKEN@" grep -q "^news-confirm+[a-z2-7]\{32\}@lists.example.org$" <<<"$all"
yes_to "$all"
check "SIGNOFF * confirmed by reply: left every list" grep -q "^CONFIRM: done: you have left every list here" <<<"$(answer_to ada@example.org)"
check "SIGNOFF * confirmed: on no list, erased" grep -q "nothing is held" <<<"$(lk person show ada@example.org)"

# A forged From is answered at the From address, never at the envelope sender.
b=$(to_count keep@example.org)
lmtp news-request@lists.example.org "$(msg keep@example.org x 'QUERY *\nSET news NOMAIL')" mallory@example.org >/dev/null
wait_to keep@example.org $((b + 2))
check "a forged From: nothing to the envelope sender" [ "$(to_count mallory@example.org)" = 0 ]
check "a forged From: the setting is not changed" [ "$(sub_col news keep nomail)" = 0 ]
# Someone else's token acts (it proves the mailbox it was sent to), but
# the answer to the sender tells nothing of that address: the same line as
# for a token of nobody. Purpose 9 = set-nomail (crypto/token.h).
keep_id=$(lk person show keep@example.org | sed -n 's/^subscriber //p')
soon=$(( $(date +%s) + 3600 ))
r1=$(ask bob@example.org listkeeper@lists.example.org "CONFIRM $(mint url 9 "$news_id" "$keep_id" "$soon")")
check "someone else's token: it acted" [ "$(sub_col news keep nomail)" = 1 ]
r2=$(ask bob@example.org listkeeper@lists.example.org "CONFIRM $(mint url 9 "$news_id" 999 "$soon")")
check "someone else's token: a neutral answer" grep -q "^CONFIRM: news request carried out, if it still applied" <<<"$r1"
check "someone else's token: the same answer as for nobody's" [ "$(grep CONFIRM <<<"$r1")" = "$(grep CONFIRM <<<"$r2")" ]

# Every answer and request of this run: no address but the recipient's and
# ours, and no subscriber's name.
settle probe@example.org
leaks=$(python3 - "$T/out/new" <<'PY'
import email, email.policy, os, re, sys
d = sys.argv[1]
for f in sorted(os.listdir(d)):
    m = email.message_from_binary_file(open(os.path.join(d, f), "rb"), policy=email.policy.default)
    to = str(m["To"]).lower()
    text = "".join(f"{k}: {v}\n" for k, v in m.items())
    for part in m.walk():
        if part.get_content_maintype() == "text":
            text += part.get_content()
    text = text.lower()
    for a in set(re.findall(r"[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]+", text)):
        if not a.endswith("@lists.example.org") and a not in to:
            print(f, m["Subject"], a)
    if "keep secret" in text and "keep@" not in to:
        print(f, m["Subject"], "a subscriber's name")
PY
)
check "no answer names another address or person" [ -z "$leaks" ]
[ -n "$leaks" ] && echo "$leaks" | head -5
check "answers were checked" [ "$(count)" -ge 40 ]

kill $serve_pid; wait $serve_pid; rc=$?; serve_pid=
check "serve exits 0 on SIGTERM" [ "$rc" -eq 0 ]
check "the log names no address" bash -c "! grep -q '@example.org' '$T/serve.log'"
finish
