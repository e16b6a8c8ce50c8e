#!/usr/bin/env bash
# The pages come from templates: every built-in page is valid HTML5 (tidy
# -errors finds nothing) with no script; a folder named by [web] templates
# replaces built-ins file by file (the footer, the consent wording, the
# stylesheet) and may add includes of its own, while the pages it does not
# replace stay the built-ins; values stay escaped in an override; [web] logo
# is served from /logo and shown in the header; a broken template stops
# serve at start-up with its file and line, and so does an include of a
# template that does not exist.
LK=$1
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/mail_lib.bash"

lk init --dir "$T" >/dev/null
export LISTKEEPER_DELIVERY_RELAY="maildir:$T/out" LISTKEEPER_HTTP_LISTEN=127.0.0.1:0
lk list create news --title 'News & <b>views</b>' --description 'Weekly <i>notes</i>' >/dev/null
lk sub add news 'Ada <ada@example.org>' --confirmed --consent-note test >/dev/null

start() { : >"$T/log"; web_serve; } # start: serve in the background; its errors alone in $T/log
valid() { # valid NAME: the body is HTML5 without errors or warnings, and without script
  if ! tidy -q -errors --show-warnings yes "$T/b" >"$T/tidy" 2>&1; then
    sed 's/^/  tidy: /' "$T/tidy"; return 1
  fi
  ! grep -qi '<script' "$T/b"
}

check "serve starts with the built-ins" start
for p in / /l/news /nowhere /l/nosuch /c/bad-token /u/bad-token; do
  req "$p" >/dev/null
  check "$p is valid HTML5 without script" valid
done
req /l/news >/dev/null
check "the consent wording is the built-in one" contains "$T/b" 'I want to receive this list&#39;s mail'
check "the list title is escaped" contains "$T/b" 'News &amp; &lt;b&gt;views&lt;/b&gt;'
[ "$(req /style.css)" = 200 ] && contains "$T/b" ':root{color-scheme' && ok "/style.css is the built-in" || bad "/style.css"
[ "$(req /logo)" = 404 ] && ok "no /logo without [web] logo" || bad "/logo without a logo"
# the confirmation page and its answer
lk sub add news grace@example.org >/dev/null
wait_mails 1 || true
c=$(python3 - "$T"/out/new/* <<'EOF'
import email, re, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
part = next(p for p in m.walk() if p.get_content_type() == "text/plain")
print(re.search(r"/c/[A-Za-z0-9_-]+", part.get_payload(decode=True).decode()).group(0))
EOF
) || c=/c/none
req "$c" >/dev/null
check "the confirmation page is valid HTML5" valid
csrf=$(csrf_of)
req "$c" --data-urlencode "csrf=$csrf" >/dev/null
check "the confirmed page says so" contains "$T/b" "You are subscribed"
check "the confirmed page is valid HTML5" valid
# the welcome, then the goodbye after the unsubscribe button: grace is on
# no other list, so she is erased, and the goodbye still reaches her
check "a welcome is mailed after the confirmation" wait_mails 2
wel=$(grep -l '^Subject: Welcome to' "$T"/out/new/* | head -1)
check "the welcome names the list" grep -q 'Subject: Welcome to News & <b>views</b>' "$wel"
u=$(grep -m1 -ohE '/u/[A-Za-z0-9_-]+' "$wel")
req "$u" >/dev/null
csrf=$(csrf_of)
req "$u" --data-urlencode "csrf=$csrf" >/dev/null
check "the unsubscribe page says the data is deleted" contains "$T/b" "personal data has been deleted"
check "a goodbye is mailed" wait_mails 3
bye=$(grep -l '^Subject: You have left' "$T"/out/new/* | head -1)
check "the goodbye goes to the erased address" grep -q '^To: grace@example.org' "$bye"
check "the goodbye says the data is deleted" grep -q 'personal data has been deleted' "$bye"
check "nothing is held about grace" grep -q "nothing is held about that address" <<<"$(lk person show grace@example.org)"
stop

# An override folder: a footer with an include of its own, the consent
# wording, the stylesheet; and a file that is not a template.
mkdir "$T/tpl"
printf '</main>\n<footer><p>{{> contact.html}}</p></footer>\n</body>\n</html>\n' >"$T/tpl/footer.html"
printf 'Write to us at {{site_name}}, <a href="/">home</a>.' >"$T/tpl/contact.html"
printf 'Yes, send me this list by mail.\n' >"$T/tpl/consent.txt"
printf 'body{color:#123456}\n' >"$T/tpl/style.css"
printf '{{ not a template' >"$T/tpl/README.md"
printf '\x89PNG\r\n\x1a\n0000' >"$T/logo.png"
export LISTKEEPER_WEB_TEMPLATES="$T/tpl" LISTKEEPER_WEB_LOGO="$T/logo.png"
export LISTKEEPER_GENERAL_SITE_NAME='Ex <ample> & Co'
check "serve starts with the folder" start
req /l/news >/dev/null
check "the footer is the folder's" contains "$T/b" '<footer><p>Write to us at Ex &lt;ample&gt; &amp; Co, <a href="/">home</a>.</p></footer>'
check "the consent wording is the folder's" contains "$T/b" 'Yes, send me this list by mail.'
check "the rest of the page is the built-in" contains "$T/b" '<h2 id="subscribe">Subscribe</h2>'
check "the header shows the logo" contains "$T/b" '<img class="logo" src="/logo" alt="">'
check "the overridden page is valid HTML5" valid
[ "$(req /style.css)" = 200 ] && [ "$(cat "$T/b")" = 'body{color:#123456}' ] && ok "/style.css is the folder's" || bad "/style.css override"
[ "$(req /logo)" = 200 ] && grep -qi '^content-type: image/png' "$T/h" && cmp -s "$T/b" "$T/logo.png" &&
  ok "/logo serves the image" || bad "/logo"
stop
# the confirmation mail from the folder, for a subscribe on the web form
printf 'Subject: Say yes to {{list_title}}\n\nHi, {{email}}: {{confirm_url}}\n' >"$T/tpl/mail_confirm.txt"
check "serve starts with a mail template" start
req /l/news >/dev/null
csrf=$(csrf_of)
rm -f "$T"/out/new/*
req /l/news --data-urlencode "csrf=$csrf" --data-urlencode "address=hal@example.org" >/dev/null
check "the confirmation is mailed" wait_mails 1
m=$(ls "$T"/out/new/* | head -1)
check "its subject is the folder's" grep -q '^Subject: Say yes to News & <b>views</b>' "$m"
check "its text is the folder's, merged" grep -q '^Hi, hal@example.org: http' "$m"
stop

# A broken template, and an include of a template that does not exist.
printf '<p>\n{{#lists}}\n<li>{{name}}</li>\n' >"$T/tpl/index.html"
if start; then bad "serve started with a broken template"; stop; else
  check "the error names the file and line" grep -qF "$T/tpl/index.html:4: the section \"lists\" opened on line 2 is not closed" "$T/log"
fi
printf '{{> header.html}}{{> nosuch.html}}{{> footer.html}}\n' >"$T/tpl/index.html"
if start; then bad "serve started with an include of nothing"; stop; else
  check "the error names the include" grep -qF "$T/tpl/index.html:1: includes \"nosuch.html\", which is no template" "$T/log"
fi
rm "$T/tpl/index.html"
export LISTKEEPER_WEB_LOGO="$T/logo.bmp"
if start; then bad "serve started with a .bmp logo"; stop; else
  check "a logo of an unknown type is refused" grep -qF '[web] logo' "$T/log"
fi
finish
