#!/usr/bin/env bash
# Moderation of a discussion list: non-members' posts are held (through
# `listkeeper inject`), the owner's notice carries a LIST-confirm+TOKEN@
# Reply-To; `listkeeper mod ls|show|approve|reject|discard` and a reply to the
# notice over LMTP (plain: approve; "discard"; a vacation reply: nothing)
# decide; approved posts reach the members (read back from the Maildir with
# Python's email module), a rejected post's sender is told the reason.
LK=$1
. "$(dirname "$0")/lib.bash"
kill_at_exit lock_pid

lk init --dir "$T" --domain lists.example.org >/dev/null
export LISTKEEPER_DELIVERY_RELAY="maildir:$T/out" LISTKEEPER_LOG_LEVEL=info
. "$(dirname "$0")/post_lib.bash"
post_setup
# notice_reply_to N: the Reply-To of the owner's notice of held post N
notice_reply_to() {
  python3 - "$T/out/new" "$1" <<'PY'
import email, email.policy, os, sys
d, n = sys.argv[1], sys.argv[2]
for f in os.listdir(d):
    m = email.message_from_binary_file(open(os.path.join(d, f), "rb"), policy=email.policy.default)
    if m["Subject"] == f"Post {n} to club is held for the moderators":
        print(m["Reply-To"])
PY
}
held() { q "SELECT count(*) FROM held"; }
for i in 1 2 3 4 5; do
  f=$(msg 'Eve <eve@example.org>' "Question $i from eve" "Hello $i")
  sed -i "s/^Message-ID: .*/Message-ID: <q$i@example.org>/" "$f" # msg runs in a subshell: its count does not move
  check "a non-member's post $i: held (inject exit 0)" [ "$(inject club@lists.example.org "$f")" = 0 ]
done
check "five posts held" [ "$(held)" = 5 ]
check "five notices to the owner" eventually '[ "$(n_got "to club is held for the moderators")" = 5 ]'
rt=$(notice_reply_to 2)
check "the notice's Reply-To is club-confirm+TOKEN@" grep -q "^club-confirm+[a-z2-7]\{32\}@lists.example.org$" <<<"$rt"
check "the notice says how to approve by reply" bash -c "grep -l 'Post 2 to club' '$T'/out/new/* | xargs grep -q 'Reply to this message to approve it'"

out=$(lk mod ls club)
check "mod ls: one line per held post" [ "$(grep -c 'non-member' <<<"$out")" = 5 ]
check "mod ls: no address" bash -c "! grep -q '@' <<<'$out'"
out=$(lk mod show club 1)
check "mod show: the sender" grep -q "^sender: eve@example.org$" <<<"$out"
check "mod show: the message" grep -q "^Subject: Question 1 from eve" <<<"$out"
check "mod show is audited" [ "$(q "SELECT count(*) FROM audit_log WHERE action = 'mod-show'")" = 1 ]
check "mod show of another list's number: exit 65" bash -c "! '$LK' mod show club 99 2>/dev/null"

out=$(lk mod approve club 1)
check "mod approve: a job sends it" grep -q "^post 1 approved: job [0-9]* sends it to club" <<<"$out"
check "the approved post reaches both members" eventually '[ "$(n_got "[club] Question 1 from eve")" = 2 ]'
check "and the archive" [ "$(q "SELECT count(*) FROM archive WHERE subject = '[club] Question 1 from eve'")" = 1 ]

# A reply to the notice approves; "discard" discards; a vacation reply does nothing.
lmtp "$rt" "$(msg 'boss@example.org' 'Re: Post 2 to club is held' 'Fine by me.\n\n> Post 2')" boss@example.org >/dev/null
check "a reply to the notice approves: post 2 reaches both members" eventually '[ "$(n_got "[club] Question 2 from eve")" = 2 ]'
check "and the archive" [ "$(q "SELECT count(*) FROM archive WHERE subject = '[club] Question 2 from eve'")" = 1 ]
lmtp "$(notice_reply_to 3)" "$(msg 'boss@example.org' 'Re: held' 'discard, spam')" boss@example.org >/dev/null
lmtp "$(notice_reply_to 5)" "$(msg 'boss@example.org' 'Away' 'I am away' 'Auto-Submitted: auto-replied')" boss@example.org >/dev/null
settle_probe=p1@example.org
lmtp club-request@lists.example.org "$(msg "$settle_probe" help '')" >/dev/null
check "settled" eventually "[ \"\$(to_count '$settle_probe')\" -ge 1 ]"
check "discard by reply: post 3 gone" [ "$(q 'SELECT count(*) FROM held WHERE id = 3')" = 0 ]
check "and sent to nobody" [ "$(n_got "Question 3")" = 0 ]
check "a vacation reply decides nothing: post 5 still held" [ "$(q 'SELECT count(*) FROM held WHERE id = 5')" = 1 ]

out=$(lk mod reject club 4 --reason "Off topic here")
check "mod reject: its sender is told" grep -q "^post 4 rejected" <<<"$out"
check "the sender gets the reason" eventually '[ "$(n_got "Your post to club was not accepted")" = 1 ]'
check "the reason is in it" bash -c "grep -l 'not accepted' '$T'/out/new/* | xargs grep -q 'Off topic here'"
check "mod discard: exit 0" lk mod discard club 5
check "the queue is empty" [ "$(held)" = 0 ]
check "mod approve of a decided post: exit 65" bash -c "'$LK' mod approve club 5 2>/dev/null; [ \$? = 65 ]"
check "mod --help" bash -c "'$LK' mod --help | grep -q 'mod approve LIST ID'"
check "the decisions are audited" [ "$(q "SELECT count(*) FROM audit_log WHERE action LIKE 'mod-%'")" = 6 ]
# [post] nonmember = reject: not held, the sender told at once.
f=$(msg 'eve@example.org' 'Another from eve' 'Hi')
check "nonmember = reject: inject exit 0" [ "$(LISTKEEPER_POST_NONMEMBER=reject inject club@lists.example.org "$f")" = 0 ]
check "nonmember = reject: the sender is told" eventually '[ "$(n_got "Your post to club was not accepted")" = 2 ]'
check "nonmember = reject: nothing held" [ "$(held)" = 0 ]
check "no address in the log" bash -c "! grep -q 'ann@\|bob@\|eve@' '$T/serve.log'"

finish
