#!/usr/bin/env bash
# The web archive /a/LIST/ through a live `serve --role web`, with curl and
# tidy: months, a month's posts, a post (its text escaped, an HTML-only post
# shown as text, never its markup or script), its attachment only as a
# download, previous/next in the thread, the thread, a month's mbox; search
# with diacritics folded, <mark>ed and escaped snippets, by date, paged; an
# FTS5 syntax error and a query of any bytes answered with a page, never a
# 500; a members archive answers the same page to everyone, a list with
# archive = none has no pages; addresses are shown obfuscated.
LK=$1
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/mail_lib.bash"

lk init --dir "$T" >/dev/null
export LISTKEEPER_HTTP_LISTEN=127.0.0.1:0 LISTKEEPER_DELIVERY_RELAY="maildir:$T/out"
lk list create talk --title 'Talk & <b>chat</b>' >/dev/null
lk list set talk archive public >/dev/null
lk list create club >/dev/null   # archive = members by default
lk list create quiet >/dev/null
lk list set quiet archive none >/dev/null
python3 - "$T/in.mbox" <<'PY'
import sys
out = open(sys.argv[1], "w")
def msg(i, subject, body, extra="", frm=None):
    frm = frm or f"Person {i} <p{i}@example.org>"
    out.write(f"From x Mon Nov  2 10:00:00 2026\nMessage-ID: <w{i}@example.org>\nFrom: {frm}\n"
              f"Subject: {subject}\nDate: Mon, 02 Nov 2026 10:{i:02d}:00 +0000\n{extra}\n{body}\n\n")
msg(1, "Le café <b>bold</b>", "Où est le café? <script>alert(1)</script> & more\n")
msg(2, "Re: Le café <b>bold</b>", "It opens at eight.\n", "In-Reply-To: <w1@example.org>\n")
msg(3, "Re: Le café <b>bold</b>", "And closes at six.\n", "In-Reply-To: <w2@example.org>\n")
msg(4, "HTML only", '<html><body><p>Hello <img src="http://tracker.example/x.png"> world</p><script>evil()</script></body></html>\n',
    "MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n")
msg(5, "With attachment", "--BB\nContent-Type: text/plain\n\nSee the file.\n--BB\nContent-Type: text/html\n"
    "Content-Disposition: attachment; filename=\"page one.html\"\n\n<script>alert(2)</script>\n--BB--\n",
    "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=BB\n")
for i in range(6, 60):
    msg(i, f"Filler {i}", f"Nothing about coffee here, number {i}.\n")
PY
lk archive import talk "$T/in.mbox" >/dev/null
lk archive import club "$T/in.mbox" >/dev/null
must_serve --role web

valid() { # the body in $T/b is HTML5 without errors or warnings, and without script
  if ! tidy -q -errors --show-warnings yes "$T/b" >"$T/tidy" 2>&1; then
    sed 's/^/  tidy: /' "$T/tidy"; return 1
  fi
  ! grep -qi '<script' "$T/b"
}
body() { grep -qF -- "$1" "$T/b"; }
hash() { python3 -c 'import base64,hashlib,sys;print(base64.b32encode(hashlib.sha1(sys.argv[1].encode()).digest()).decode())' "$1"; }
H1=$(hash w1@example.org); H2=$(hash w2@example.org); H3=$(hash w3@example.org)
H4=$(hash w4@example.org); H5=$(hash w5@example.org)

check "the index answers 200" test "$(req /a/talk/)" = 200
check "the index is valid HTML5" valid
check "the index lists the month" body 'href="/a/talk/2026-11/"'
check "the list's title is escaped" body 'Talk &amp; &lt;b&gt;chat&lt;/b&gt;'
check "the month page answers 200" test "$(req /a/talk/2026-11/)" = 200
check "the month page is valid HTML5" valid
check "the month page escapes subjects" body 'Le café &lt;b&gt;bold&lt;/b&gt;'
check "the month page pages (50 a page)" body 'href="/a/talk/2026-11/?page=2"'
check "its second page answers" test "$(req '/a/talk/2026-11/?page=2')" = 200
check "the second page holds the last post" body 'Filler 59'
check "the post page answers 200" test "$(req /a/talk/m/$H2)" = 200
check "the post page is valid HTML5" valid
check "the post page shows the address obfuscated" body 'Person 2 (p2 at example.org)'
check "the post page does not show the address" bash -c "! grep -qF 'p2@example.org' '$T/b'"
check "previous in thread" body "href=\"/a/talk/m/$H1\""
check "next in thread" body "href=\"/a/talk/m/$H3\""
req /a/talk/m/$H1 >/dev/null
check "a post's text is escaped, its script never a tag" body 'Où est le café? &lt;script&gt;alert(1)&lt;/script&gt; &amp; more'
check "that page is valid HTML5 without script" valid
req /a/talk/m/$H4 >/dev/null
check "an HTML-only post is shown as text" body 'Hello'
check "an HTML-only post's image and script are not markup" bash -c "! grep -qiE '<img|tracker.example|<script' '$T/b'"
check "the thread page answers 200" test "$(req /a/talk/t/$H3)" = 200
check "the thread page is valid HTML5" valid
check "the thread page holds the three posts" test "$(grep -c 'href="/a/talk/m/' "$T/b")" = 3
req /a/talk/m/$H5 >/dev/null
check "the attachment is offered as a download" body "/a/talk/m/$H5/1/page%20one.html"
check "the attachment answers 200" test "$(req "/a/talk/m/$H5/1/page%20one.html")" = 200
check "the attachment is Content-Disposition: attachment" hdr 'Content-Disposition: attachment'
check "the attachment is never text/html" hdr 'Content-Type: application/octet-stream'
check "the month's mbox answers 200" test "$(req /a/talk/2026-11.mbox)" = 200
check "the mbox is a download" hdr 'Content-Disposition: attachment'
check "the mbox holds every post of the month" test "$(grep -c '^From - ' "$T/b")" = 59

check "search answers 200" test "$(req '/a/talk/search?q=cafe')" = 200
check "search results are valid HTML5" valid
check "search folds diacritics (cafe finds the three café posts)" test "$(grep -c 'class="snippet"' "$T/b")" = 3
check "search marks the match" body '<mark>café</mark>'
check "search by date puts the newest first" bash -c "[ \"\$(curl -s '$url/a/talk/search?q=cafe&order=date' | grep -o 'href=\"/a/talk/m/[A-Z2-7]*\"' | head -1)\" = 'href=\"/a/talk/m/$H3\"' ]"
check "search pages (50 a page)" bash -c "curl -s '$url/a/talk/search?q=nothing' | grep -qF 'href=\"/a/talk/search?order=rank&amp;q=nothing&amp;page=2\"'"
check "the second page of results answers" test "$(req '/a/talk/search?q=nothing&page=2')" = 200
check "the second page of results is valid" valid
check "a search's snippet is escaped" bash -c "curl -s '$url/a/talk/search?q=script' | grep -qF '&lt;<mark>script</mark>&gt;'"
check "an FTS5 syntax error answers 200" test "$(req '/a/talk/search?q=%22unbalanced')" = 200
check "the syntax error is shown to the reader" body 'The search could not be read'
check "the error page is valid HTML5" valid
for q in '%FF%FE%00%01' 'a%00b' 'NEAR(' '*' 'subject%3A' ')))' '%3Cscript%3E' 'x%22%20OR%20%22' "$(head -c 600 /dev/zero | tr '\0' a)"; do
  s=$(req "/a/talk/search?q=$q")
  check "query '${q:0:20}' answers 200, never a 500" test "$s" = 200
  check "query '${q:0:20}' gives a valid page" valid
done
check "a members archive answers 403 with the members page" test "$(req /a/club/)" = 403
check "the members page is valid HTML5" valid
cp "$T/b" "$T/members1"
req /a/club/m/$H1 >/dev/null
check "a members archive shows the same page for any of its addresses" cmp -s "$T/b" "$T/members1"
check "a members archive shows none of its posts" bash -c "! grep -q 'café' '$T/b'"
check "a list without an archive has no pages" test "$(req /a/quiet/)" = 404
check "an unknown list has no archive" test "$(req /a/nosuch/)" = 404
check "a bad hash is a 404" test "$(req /a/talk/m/NOTAHASH)" = 404
check "a bad month is a 404" test "$(req /a/talk/2026-13/)" = 404
stop
finish
