#!/usr/bin/env bash
# `filter check` against the real daemons (tests/cli/filters_lib.bash): clamd
# over its Unix socket and over TCP finds the EICAR string in a mail body and
# clamav-testfiles' clam.exe in a base64 attachment and passes a clean mail;
# a post past clamd's StreamMaxLength is a final error; spamd scores GTUBE as
# spam with the GTUBE rule named, a plain mail not; clamd stopped, a daemon
# that accepts and never answers, and one that answers garbage are temporary
# errors of the peer (exit 75) within the timeout; no filter configured: 78.
# `post check` with both daemons: a member's post accepted, a non-member's
# held (or discarded per [post] nonmember), an owner's accepted, EICAR
# discarded, GTUBE held (discarded past spam_discard), our own List-Id a loop,
# Auto-Submitted held, too big refused, moderation all held, clamd down a
# retry (75) unless [post] filter_fail = accept.
LK=$1
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/filters_lib.bash"

lk init --dir "$T" --domain lists.example.org >/dev/null
check "clamd starts with the test database" clamd_start
check "spamd starts with the shipped rules" spamd_start

mail() { # mail FILE SUBJECT BODY: a plain message
  printf 'From: Ann <ann@example.org>\r\nTo: team@lists.example.org\r\nSubject: %s\r\nMessage-ID: <%s@example.org>\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\n\r\n%s\r\n' \
    "$2" "$RANDOM" "$3" > "$1"
}
mail "$T/clean.eml" "lunch" "Shall we meet at noon?"
mail "$T/eicar.eml" "see this" "$EICAR"
mail "$T/gtube.eml" "offer" "$GTUBE"
"$PY" - "$CLAM_EXE" "$T/exe.eml" <<'PY'
import sys
from email.message import EmailMessage
m = EmailMessage()
m["From"] = "ann@example.org"; m["To"] = "team@lists.example.org"; m["Subject"] = "tool"
m.set_content("the tool is attached")
m.add_attachment(open(sys.argv[1], "rb").read(), maintype="application",
                 subtype="octet-stream", filename="tool.exe")
open(sys.argv[2], "wb").write(m.as_bytes(policy=m.policy.clone(linesep="\r\n")))
PY
head -c 3000000 /dev/zero | tr '\0' 'a' | fold -w 76 > "$T/big.txt"
mail "$T/big.eml" "big" "$(cat "$T/big.txt")"

export LISTKEEPER_FILTER_CLAMD=unix:$CLAMD_SOCK LISTKEEPER_FILTER_SPAM=none
out=$(lk filter check "$T/clean.eml"); rc=$?
check "unix socket: a clean mail is clean (exit 0)" [ "$out" = "clamd unix:$CLAMD_SOCK: clean" -a $rc = 0 ]
out=$(lk filter check "$T/eicar.eml")
check "unix socket: EICAR in the body is found" \
  [ "$out" = "clamd unix:$CLAMD_SOCK: infected (Eicar-Test-Signature.UNOFFICIAL)" ]
out=$(lk filter check "$T/exe.eml")
check "unix socket: clam.exe in a base64 attachment is found" \
  [ "$out" = "clamd unix:$CLAMD_SOCK: infected (ClamAV-Test-File.UNOFFICIAL)" ]
rc=0; out=$(lk filter check "$T/big.eml") || rc=$?
check "a post past StreamMaxLength: final error of clamd (exit 69)" \
  [ $rc = 69 -a "$out" = "clamd unix:$CLAMD_SOCK: unavailable (final, peer): clamd: INSTREAM size limit exceeded." ]

export LISTKEEPER_FILTER_CLAMD=127.0.0.1:$CLAMD_PORT
out=$(lk filter check "$T/eicar.eml")
check "TCP: EICAR in the body is found" \
  [ "$out" = "clamd 127.0.0.1:$CLAMD_PORT: infected (Eicar-Test-Signature.UNOFFICIAL)" ]
out=$(lk filter check "$T/clean.eml")
check "TCP: a clean mail is clean" [ "$out" = "clamd 127.0.0.1:$CLAMD_PORT: clean" ]

export LISTKEEPER_FILTER_CLAMD=none LISTKEEPER_FILTER_SPAM=spamd:127.0.0.1:$SPAMD_PORT
out=$(lk filter check "$T/gtube.eml")
check "spamd: GTUBE is spam, the GTUBE rule named" \
  grep -qE "^spamd 127.0.0.1:$SPAMD_PORT: score 10[0-9][0-9]\.[0-9], required 5\.0: spam \((.*,)?GTUBE(,.*)?\)$" <<<"$out"
out=$(lk filter check "$T/clean.eml")
check "spamd: a plain mail is not spam" \
  grep -qE "^spamd 127.0.0.1:$SPAMD_PORT: score -?[0-4]\.[0-9], required 5\.0: not spam \(" <<<"$out"

# `post check`: the decision for a post to a discussion list, the filters on.
lk list create team --kind discussion --posting-policy members --owners boss@example.org >/dev/null
lk sub add team ann@example.org --confirmed --consent-note test >/dev/null
export LISTKEEPER_FILTER_CLAMD=unix:$CLAMD_SOCK LISTKEEPER_FILTER_SPAM=spamd:127.0.0.1:$SPAMD_PORT
decision() { lk post check team "$1" | sed -n 's/^decision: //p'; }
post() { # post FILE FROM SUBJECT BODY [HEADER...]
  local f=$1 from=$2 subj=$3 body=$4; shift 4
  { printf 'From: %s\r\nTo: team@lists.example.org\r\nSubject: %s\r\n' "$from" "$subj"
    printf 'Message-ID: <%s@example.org>\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\n' "$RANDOM"
    local h; for h in "$@"; do printf '%s\r\n' "$h"; done
    printf '\r\n%s\r\n' "$body"; } > "$f"
}
post "$T/p1.eml" "Ann <ann@example.org>" "lunch" "Shall we meet at noon?"
out=$(lk post check team "$T/p1.eml")
check "post check: a member's clean post is accepted" grep -qx "decision: accept" <<<"$out"
check "post check: both filters ran" [ "$(grep -c '^clam\|^spam' <<<"$out")" = 2 ]
check "post check: the sender's address is not printed" bash -c "! grep -q ann@ <<<\"\$1\"" _ "$out"
post "$T/p2.eml" "Bob <bob@example.org>" "hello" "I am not on the list"
check "post check: a non-member's post is held" [ "$(decision "$T/p2.eml")" = "hold (non-member)" ]
check "post check: [post] nonmember = discard" \
  [ "$(LISTKEEPER_POST_NONMEMBER=discard decision "$T/p2.eml")" = "discard (non-member)" ]
post "$T/p3.eml" "boss@example.org" "news" "From the owner"
check "post check: an owner may post" [ "$(decision "$T/p3.eml")" = "accept" ]
post "$T/p4.eml" "ann@example.org" "see this" "$EICAR"
check "post check: EICAR is discarded" \
  [ "$(decision "$T/p4.eml")" = "discard (virus: Eicar-Test-Signature.UNOFFICIAL)" ]
post "$T/p5.eml" "ann@example.org" "offer" "$GTUBE"
check "post check: GTUBE is held" grep -qE '^hold \(spam score: spam score 10[0-9]{2}\.[0-9]\)$' <<<"$(decision "$T/p5.eml")"
check "post check: GTUBE past [post] spam_discard is discarded" \
  grep -qE '^discard \(spam score' <<<"$(LISTKEEPER_POST_SPAM_DISCARD=500 decision "$T/p5.eml")"
post "$T/p6.eml" "ann@example.org" "Re: lunch" "again" "List-Id: Team <team.lists.example.org>"
check "post check: our own List-Id is a loop, discarded" \
  [ "$(decision "$T/p6.eml")" = "discard (loop: our own List-Id or X-BeenThere)" ]
post "$T/p7.eml" "ann@example.org" "away" "I am away" "Auto-Submitted: auto-replied"
check "post check: Auto-Submitted is held as suspicious" \
  [ "$(decision "$T/p7.eml")" = "hold (suspicious header: Precedence or Auto-Submitted)" ]
check "post check: a post past [post] max_message_kb is refused" \
  [ "$(LISTKEEPER_POST_MAX_MESSAGE_KB=1 decision "$T/big.eml")" = "refuse (too big: over 1 KB)" ]
lk list set team moderation all >/dev/null
check "post check: moderation all holds a member's post" \
  [ "$(decision "$T/p1.eml")" = "hold (moderated member: every post is moderated)" ]
lk list set team moderation none >/dev/null
rc=0; LISTKEEPER_FILTER_CLAMD=unix:$T/none.sock lk post check team "$T/p1.eml" > "$T/out" || rc=$?
check "post check: clamd down is a retry (exit 75)" [ $rc = 75 ] && grep -qx "decision: retry (filter unavailable: clamd)" "$T/out"
check "post check: clamd down, spamd not asked" bash -c "! grep -q '^spamd' '$T/out'"
check "post check: clamd down, [post] filter_fail = accept" \
  [ "$(LISTKEEPER_FILTER_CLAMD=unix:$T/none.sock LISTKEEPER_POST_FILTER_FAIL=accept decision "$T/p1.eml")" = accept ]
lk list create news >/dev/null
rc=0; lk post check news "$T/p1.eml" 2>/dev/null || rc=$?
check "post check: an announcement list is refused (65)" [ $rc = 65 ]

export LISTKEEPER_FILTER_CLAMD=unix:$CLAMD_SOCK
out=$(lk filter check "$T/eicar.eml")
check "both: one line each" [ "$(wc -l <<<"$out")" = 2 ]
clamd_stop
rc=0; out=$(lk filter check "$T/eicar.eml") || rc=$?
check "clamd stopped: temporary error of the peer (exit 75)" \
  grep -qF "clamd unix:$CLAMD_SOCK: unavailable (temporary, peer): clamd unix:$CLAMD_SOCK: connect:" <<<"$out"
check "clamd stopped: exit 75" [ $rc = 75 ]
check "clamd stopped: spamd still answers" grep -qF "spamd 127.0.0.1:$SPAMD_PORT: score" <<<"$out"

# A daemon that accepts and never answers, and one that answers nonsense.
kill_at_exit silent_pid garbage_pid
check "a silent fake daemon listens" fake_daemon silent
silent=$fake_port silent_pid=$fake_pid
check "a fake daemon that answers garbage listens" fake_daemon garbage
garbage=$fake_port garbage_pid=$fake_pid
export LISTKEEPER_FILTER_TIMEOUT_SECONDS=1 LISTKEEPER_FILTER_SPAM=none
export LISTKEEPER_FILTER_CLAMD=127.0.0.1:$silent
start=$(date +%s%N); rc=0; out=$(lk filter check "$T/clean.eml") || rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "silent daemon: temporary, after the timeout (exit 75)" \
  [ $rc = 75 -a "$out" = "clamd 127.0.0.1:$silent: unavailable (temporary, peer): clamd: no answer within 1000 ms" ]
check "silent daemon: given up within 3 s ($ms ms)" [ "$ms" -lt 3000 ]
export LISTKEEPER_FILTER_CLAMD=127.0.0.1:$garbage
rc=0; out=$(lk filter check "$T/clean.eml") || rc=$?
check "garbage from clamd: not a clamd answer (exit 75)" \
  [ $rc = 75 -a "$out" = "clamd 127.0.0.1:$garbage: unavailable (temporary, peer): clamd: not a clamd answer" ]
export LISTKEEPER_FILTER_CLAMD=none LISTKEEPER_FILTER_SPAM=spamd:127.0.0.1:$garbage
rc=0; out=$(lk filter check "$T/clean.eml") || rc=$?
check "garbage from spamd: not a spamd answer (exit 75)" \
  [ $rc = 75 -a "$out" = "spamd 127.0.0.1:$garbage: unavailable (temporary, peer): spamd: not a spamd answer (status line)" ]

export LISTKEEPER_FILTER_SPAM=none
rc=0; lk filter check "$T/clean.eml" 2>"$T/err" || rc=$?
check "no filter configured: exit 78" [ $rc = 78 ]
export LISTKEEPER_FILTER_CLAMD=localhost
rc=0; lk filter check "$T/clean.eml" 2>"$T/err" || rc=$?
check "a bad endpoint: exit 78, naming the key" [ $rc = 78 ] && grep -qF "[filter] clamd" "$T/err"
finish
