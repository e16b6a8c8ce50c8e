#!/usr/bin/env bash
# The confirmation, welcome and goodbye mails come from one template set,
# the built-ins overridden by [web] templates, whatever sends them: with a
# folder whose mail_confirm.txt, mail_welcome.txt and mail_goodbye.txt carry
# marker text (and mail_command_confirm.txt, the request to confirm a SIGNOFF
# or SET by mail), the mails of `sub add`, `import`, an email SUBSCRIBE,
# SIGNOFF and SET (through `listkeeper inject`), the web form, a
# confirmation on /c/, by an email CONFIRM command and by a reply to
# LIST-confirm+TOKEN@ (over LMTP, to the intake role), and the goodbyes of
# /u/ and /p/, the link to /me/TOKEN that /me mails (mail_request.txt),
# the answers to email commands (mail_answer.txt, around the lines that
# say what each command did) and the replies to posts to an announcement
# list, from someone and from an owner (mail_post_refused.txt), all carry
# the markers, read
# back from the Maildir relay of a live `serve` (web, delivery and intake);
# leaving the last list on /p/ says on the page and in the goodbye that the
# personal data has been deleted. A broken mail template stops `sub add`
# and `inject` (exit 75: the MTA tries again) with its file and line, and
# queues nothing.
LK=$1
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/mail_lib.bash"

lk init --dir "$T" --domain lists.example.org >/dev/null
export LISTKEEPER_DELIVERY_RELAY="maildir:$T/out" LISTKEEPER_HTTP_LISTEN=127.0.0.1:0
export LISTKEEPER_DELIVERY_RETRY_BASE_SECONDS=1 LISTKEEPER_INTAKE_REPLIES_PER_HOUR=50
lk list create news --title 'News' >/dev/null
lk list create club --title 'Club' >/dev/null
db=$T/listkeeper.db

mkdir "$T/tpl"
printf 'Subject: MARK-C-SUBJECT {{list_title}}\n\nMARK-CONFIRM for {{email}}: {{confirm_url}}\n' \
  >"$T/tpl/mail_confirm.txt"
printf 'Subject: MARK-W-SUBJECT {{list_title}}\n\nMARK-WELCOME for {{email}}: {{preferences_url}}\n' \
  >"$T/tpl/mail_welcome.txt"
printf 'Subject: MARK-G-SUBJECT {{list_title}}\n\nMARK-GOODBYE for {{email}}\n{{#erased}}\nMARK-ERASED\n{{/erased}}\n' \
  >"$T/tpl/mail_goodbye.txt"
printf 'Subject: MARK-K-SUBJECT {{list_title}}\n\nMARK-COMMAND {{#signoff}}leave at {{unsubscribe_url}}{{/signoff}}{{^signoff}}set {{setting}}{{/signoff}} for {{email}}\n' \
  >"$T/tpl/mail_command_confirm.txt"
printf 'Subject: MARK-R-SUBJECT {{list_title}}\n\nMARK-REQUEST for {{email}}: {{request_url}}\n' \
  >"$T/tpl/mail_request.txt"
printf 'Subject: MARK-A-SUBJECT {{list}}\n\nMARK-ANSWER to {{to}} for {{email}}\n{{answers}}\n{{#errors}}\nMARK-ANSWER-ERRORS\n{{/errors}}\nMARK-ANSWER-END\n' \
  >"$T/tpl/mail_answer.txt"
printf 'Subject: MARK-P-SUBJECT {{list_title}}\n\n{{#owner}}MARK-POST-OWNER for {{email}}{{/owner}}{{^owner}}MARK-POST to {{to}} for {{email}}: {{owners_address}} {{request_address}}{{/owner}}\n' \
  >"$T/tpl/mail_post_refused.txt"
export LISTKEEPER_WEB_TEMPLATES="$T/tpl"

port=
start() { # start [TRIES]: serve with every role in the background; sets url and port
  for _ in $(seq "${1:-5}"); do
    port=$(free_port)
    : >"$T/log" # this start's errors only
    LISTKEEPER_LMTP_LISTEN=127.0.0.1:$port web_serve &&
      eventually "grep -q '^listkeeper: lmtp on 127.0.0.1:$port\$' '$T/serve.out'" && return 0
    stop
  done
  return 1
}
# link TEXT PREFIX: the first /PREFIX/TOKEN in TEXT
link() { grep -m1 -oE "/$2/[A-Za-z0-9_-]+" <<<"$1" || true; }
n=0
msg() { # msg FROM BODY: a message file, printed path
  n=$((n + 1)); local f="$T/m$n.eml"
  printf 'From: %s\nTo: listkeeper@lists.example.org\nSubject: x\nMessage-ID: <m%s@example.org>\n\n%b\n' \
    "$1" "$n" "$2" >"$f"
  echo "$f"
}
inject() { # inject TO FILE: exit status of listkeeper inject
  local rc=0; "$LK" inject --recipient "$1" --sender sender@example.org <"$2" 2>>"$T/inject.err" || rc=$?; echo $rc
}
# web_confirm TEXT: presses the button of the /c/ link in TEXT
web_confirm() {
  local c; c=$(link "$1" c)
  [ -n "$c" ] && req "$c" >/dev/null && [ "$(req "$c" --data-urlencode "csrf=$(csrf_of)")" = 200 ]
}

check "serve starts with the template folder" start

# sub add: the confirmation; /c/: the welcome
lk sub add news ada@example.org >/dev/null
m=$(mail ada@example.org MARK-CONFIRM) || m=
check "sub add: the confirmation is the folder's" grep -q '^Subject: MARK-C-SUBJECT News' <<<"$m"
check "... merged for ada" grep -q '^MARK-CONFIRM for ada@example.org: http.*/c/' <<<"$m"
check "web /c/: confirmed" web_confirm "$m"
check "... and the welcome is the folder's" has ada@example.org MARK-WELCOME

# /me: the link to the data page
req /me >/dev/null
check "POST /me for ada is 200" \
  [ "$(req /me --data-urlencode "csrf=$(csrf_of)" --data-urlencode 'address=ada@example.org')" = 200 ]
m=$(mail ada@example.org MARK-REQUEST) || m=
check "/me: the mail is the folder's" grep -q '^Subject: MARK-R-SUBJECT News' <<<"$m"
check "... merged for ada, with a /me/ link" \
  grep -q '^MARK-REQUEST for ada@example.org: http://.*/me/[A-Za-z0-9_-]*$' <<<"$m"
opens() { [ -n "$1" ] && [ "$(req "$1")" = 200 ] && contains "$T/b" "$2"; }
check "... that opens ada's data page" opens "$(link "$m" me)" 'ada@example.org'

# import: the confirmation; an email CONFIRM command: the welcome
printf 'email,name\nbob@example.org,Bob\n' >"$T/p.csv"
lk import news "$T/p.csv" >/dev/null 2>&1
m=$(mail bob@example.org MARK-CONFIRM) || m=
check "import: the confirmation is the folder's" grep -q '^MARK-CONFIRM for bob@example.org' <<<"$m"
tok=$(link "$m" c); tok=${tok#/c/}
check "CONFIRM by mail (inject): exit 0" \
  [ "$(inject listkeeper@lists.example.org "$(msg bob@example.org "CONFIRM $tok")")" = 0 ]
check "... and the welcome is the folder's" has bob@example.org MARK-WELCOME
m=$(mail bob@example.org MARK-ANSWER) || m=
check "... the answer is the folder's" grep -q '^Subject: MARK-A-SUBJECT *$' <<<"$m"
check "... framing the command's line" \
  grep -qx 'MARK-ANSWER to listkeeper@lists.example.org for bob@example.org' <<<"$m"
check "... which says what was done, then the frame's end" \
  [ "$(grep -A1 '^CONFIRM: news confirmed' <<<"$m" | tail -1)" = MARK-ANSWER-END ]
if grep -q MARK-ANSWER-ERRORS <<<"$m"; then bad "the answer claims a line was not understood"; else
  ok "the answer claims no line that was not understood"; fi
check "a command with a line not understood (inject, to news-request@): exit 0" \
  [ "$(inject news-request@lists.example.org "$(msg bob@example.org 'LISTS\nfrobnicate')")" = 0 ]
m=$(mail bob@example.org 'MARK-A-SUBJECT news') || m=
check "... the answer is the folder's, naming the list" \
  grep -qx 'MARK-ANSWER to news-request@lists.example.org for bob@example.org' <<<"$m"
check "... with the generated line for it" grep -q '^Line 2: unknown command' <<<"$m"
check "... and the frame's part for errors" grep -qx 'MARK-ANSWER-ERRORS' <<<"$m"

# a post to an announcement list (inject, to news@): the reply to someone,
# and to an owner
check "a post to news@ (inject): exit 0" \
  [ "$(inject news@lists.example.org "$(msg fan@example.org 'Hello all')")" = 0 ]
m=$(mail fan@example.org MARK-POST) || m=
check "... the reply is the folder's" grep -q '^Subject: MARK-P-SUBJECT News' <<<"$m"
check "... with the list's addresses" grep -qx 'MARK-POST to news@lists.example.org for fan@example.org: news-owner@lists.example.org news-request@lists.example.org' <<<"$m"
lk list set news --owner boss@example.org >/dev/null
check "an owner's post to news@ (inject): exit 0" \
  [ "$(inject news@lists.example.org "$(msg boss@example.org 'Issue 2')")" = 0 ]
m=$(mail boss@example.org MARK-P-SUBJECT) || m=
check "... the reply is the folder's part for owners" grep -qx 'MARK-POST-OWNER for boss@example.org' <<<"$m"

# an email SUBSCRIBE (inject): the confirmation; a reply to its Reply-To
# over LMTP (the intake role's own templates): the welcome
check "SUBSCRIBE by mail (inject): exit 0" \
  [ "$(inject listkeeper@lists.example.org "$(msg 'Cy <cy@example.org>' 'SUBSCRIBE news')")" = 0 ]
check "... the confirmation is the folder's" has cy@example.org MARK-CONFIRM
rt=$(python3 - "$T/out/new" <<'PY'
import email, email.policy, os, sys
d = sys.argv[1]
for f in os.listdir(d):
    m = email.message_from_binary_file(open(os.path.join(d, f), "rb"), policy=email.policy.default)
    if "cy@" in str(m["To"]) and "MARK-C-SUBJECT" in str(m["Subject"]) and m["Reply-To"]:
        print(m["Reply-To"].addresses[0].addr_spec)
PY
)
check "... with a news-confirm+TOKEN@ Reply-To" grep -q '^news-confirm+.*@lists.example.org$' <<<"$rt"
out=$(swaks --server 127.0.0.1 --port "$port" --protocol LMTP --helo test.example \
  --from cy@example.org --to "$rt" --data "@$(msg cy@example.org 'yes')" --timeout 20 </dev/null 2>&1 || true)
check "the reply over LMTP: 250" grep -q '<-  *250 2.0.0' <<<"$out"
check "... and the welcome is the folder's" has cy@example.org MARK-WELCOME
# SIGNOFF and SET by mail: the requests to confirm them
check "SIGNOFF by mail (inject): exit 0" \
  [ "$(inject listkeeper@lists.example.org "$(msg cy@example.org 'SIGNOFF news')")" = 0 ]
m=$(mail cy@example.org 'MARK-COMMAND leave') || m=
check "... the request to confirm is the folder's, with the /u/ link" \
  grep -q '^MARK-COMMAND leave at http://.*/u/[A-Za-z0-9_-]* for cy@example.org$' <<<"$m"
check "SET by mail (inject): exit 0" \
  [ "$(inject listkeeper@lists.example.org "$(msg cy@example.org 'SET news NOMAIL')")" = 0 ]
m=$(mail cy@example.org 'MARK-COMMAND set') || m=
check "... the request to confirm is the folder's" grep -q '^Subject: MARK-K-SUBJECT News' <<<"$m"
check "... naming the setting" grep -q '^MARK-COMMAND set NOMAIL for cy@example.org$' <<<"$m"

# the web form: the confirmation
req /l/news >/dev/null
req /l/news --data-urlencode "csrf=$(csrf_of)" --data-urlencode 'address=dee@example.org' >/dev/null
check "the web form: the confirmation is the folder's" has dee@example.org MARK-CONFIRM

# /u/: the goodbye (bob is on no other list: erased)
m=$(mail bob@example.org MARK-WELCOME) || m=
u=$(link "$m" u)
req "$u" >/dev/null
req "$u" --data-urlencode "csrf=$(csrf_of)" >/dev/null
m=$(mail bob@example.org MARK-GOODBYE) || m=
check "/u/: the goodbye is the folder's" grep -q '^Subject: MARK-G-SUBJECT News' <<<"$m"
check "... saying the data is deleted" grep -q '^MARK-ERASED' <<<"$m"

# /p/: leaving one of two lists, then the last
lk sub add club ada@example.org --confirmed --consent-note test >/dev/null
m=$(mail ada@example.org MARK-WELCOME) || m=
p=$(link "$m" p)
news_id=$(sqlite3 "$db" "SELECT id FROM lists WHERE name = 'news'")
club_id=$(sqlite3 "$db" "SELECT id FROM lists WHERE name = 'club'")
req "$p" >/dev/null
check "/p/: leaving news is 200" [ "$(req "$p" --data "csrf=$(csrf_of)&format=text&l.$news_id=leave")" = 200 ]
if grep -aqF 'personal data has been deleted' "$T/b"; then bad "/p/ claims an erasure"; else
  ok "/p/ claims no erasure while on club"; fi
m=$(mail ada@example.org 'MARK-G-SUBJECT News') || m=
check "/p/: the goodbye is the folder's" grep -q '^MARK-GOODBYE for ada@example.org' <<<"$m"
if grep -q MARK-ERASED <<<"$m"; then bad "the goodbye claims an erasure"; else
  ok "the goodbye claims no erasure"; fi
req "$p" >/dev/null
check "/p/: leaving club, the last list, is 200" \
  [ "$(req "$p" --data "csrf=$(csrf_of)&format=text&l.$club_id=leave")" = 200 ]
check "the page says plainly: personal data has been deleted" \
  contains "$T/b" 'Your personal data has been deleted.'
m=$(mail ada@example.org 'MARK-G-SUBJECT Club') || m=
check "the last goodbye is the folder's, saying so" grep -q '^MARK-ERASED' <<<"$m"
check "nothing is held about ada" grep -q 'nothing is held about that address' <<<"$(lk person show ada@example.org)"

# nothing came from the built-ins
builtin=$(grep -lE '^Subject: (Please confirm|Welcome to|You have left|Your link|The answer to|Not sent to)' "$T"/out/new/* || true)
check "no mail used a built-in mail template" [ -z "$builtin" ]
stop

# A broken mail template: sub add and inject refuse, naming file and line,
# and queue nothing.
printf 'Subject: x\n\n{{#erased}}\n' >"$T/tpl/mail_goodbye.txt"
jobs0=$(sqlite3 "$db" 'SELECT count(*) FROM jobs')
rc=0; lk sub add news eve@example.org >/dev/null 2>"$T/err" || rc=$?
check "sub add with a broken template: exit 78" [ "$rc" = 78 ]
check "... naming the file and line" grep -qF "$T/tpl/mail_goodbye.txt:4: the section \"erased\"" "$T/err"
check "... eve was not added" grep -q 'nothing is held about that address' <<<"$(lk person show eve@example.org)"
check "inject with a broken template: exit 75" \
  [ "$(inject listkeeper@lists.example.org "$(msg eve@example.org 'SUBSCRIBE news')")" = 75 ]
check "no job was queued" [ "$(sqlite3 "$db" 'SELECT count(*) FROM jobs')" = "$jobs0" ]
if start 1; then bad "serve started with a broken mail template"; stop; else
  check "serve refuses it at start-up, naming the file" grep -qF "$T/tpl/mail_goodbye.txt:4:" "$T/log"
fi
finish
