#!/usr/bin/env bash
# Makes the bounces in this folder with a real Postfix: a private instance
# (its own config and queue under a temp folder, nothing listening but
# loopback) relays one message per case to an smtp-sink that answers RCPT
# with the case's reply, and sends the bounce Postfix writes to a second
# smtp-sink that dumps it; the dump is this folder's CASE.eml.
#
#   bash tests/intake/bounces/postfix/make.sh     (as root: Postfix's master)
#
# Needs postfix and smtp-sink (Debian: postfix). Not run by the tests: its
# output is committed, with each file's class in ../expected.tsv. The
# replies are those that receivers send as documented by them (Gmail,
# Outlook.com, Yahoo, Spamhaus users, Postfix's own restrictions);
# addresses, IPs and hosts are made up (example.net, 192.0.2.0/24).
set -euo pipefail
OUT=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/lk-pfgen.XXXXXX)
chmod 755 "$T"
pids=()
cleanup() {
  postfix -c "$T/etc" stop >/dev/null 2>&1 || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$T"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# CASE|hard or soft|the receiver's reply to RCPT TO
cases=(
  "gone-user-unknown|hard|550 5.1.1 <ann@d.example.net>: Recipient address rejected: User unknown in virtual mailbox table"
  "gone-gmail-no-account|hard|550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. - gsmtp"
  "gone-outlook-not-found|hard|550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"
  "gone-yahoo-no-account|hard|554 delivery error: dd This user doesn't have a yahoo.com account (ann@d.example.net) [0] - mta1.mail.example.net"
  "gone-disabled|hard|550 5.2.1 The email account that you tried to reach is disabled."
  "gone-mailbox-unavailable|hard|550 Requested action not taken: mailbox unavailable"
  "gone-exim-unrouteable|hard|550 Unrouteable address"
  "policy-spamhaus|hard|554 5.7.1 Service unavailable; Client host [192.0.2.7] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.7"
  "policy-gmail-unauthenticated|hard|550 5.7.26 This mail is unauthenticated, which poses a security risk to the sender and Gmail users, and has been blocked. The sender must authenticate with at least one of SPF or DKIM. - gsmtp"
  "policy-gmail-spf|hard|550 5.7.1 The domain lists.example.org does not designate 192.0.2.7 as permitted sender - gsmtp"
  "policy-outlook-blocklist|hard|550 5.7.1 Unfortunately, messages from [192.0.2.7] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150)."
  "policy-outlook-banned-ip|hard|550 5.7.606 Access denied, banned sending IP [192.0.2.7]. To request removal from this list please visit https://sender.office.com/"
  "policy-yahoo-deferred|hard|553 5.7.2 [TSS09] All messages from 192.0.2.7 will be permanently deferred; Retrying will NOT succeed."
  "policy-ptr|hard|550 5.7.25 [192.0.2.7] The IP address sending this message does not have a PTR record setup, or the corresponding forward DNS entry does not point to the sending IP."
  "policy-dmarc|hard|550 5.7.1 Email rejected per DMARC policy for lists.example.org"
  "policy-relay-denied|hard|554 5.7.1 <ann@d.example.net>: Relay access denied"
  "policy-microsoft-mailbox-unavailable|hard|550 5.7.1 Service unavailable, Client host [192.0.2.7] blocked by the recipient's organization: mailbox unavailable"
  "content-gmail-unsolicited|hard|550 5.7.1 Our system has detected that this message is likely unsolicited mail. To reduce the amount of spam sent to Gmail, this message has been blocked. - gsmtp"
  "content-too-big|hard|552 5.3.4 Message size exceeds fixed limit"
  "content-virus|hard|554 5.7.1 Message rejected: virus found (Eicar-Test-Signature)"
  "content-rejected|hard|554 5.6.0 Message content rejected"
  "full-mailbox|hard|552 5.2.2 <ann@d.example.net>: Mailbox full"
  "full-gmail-over-quota|soft|452 4.2.2 The email account that you tried to reach is over quota. - gsmtp"
  "temporary-greylisted|soft|450 4.7.1 <ann@d.example.net>: Recipient address rejected: Greylisted, see https://postgrey.schweikert.ch/"
  "temporary-unverified|soft|450 4.1.1 <ann@d.example.net>: Recipient address rejected: unverified address: host mx.d.example.net said: 550 5.1.1 User unknown"
)

dump_port=$(free_port)
mkdir -p "$T/dump"
chown postfix "$T/dump"
smtp-sink -u postfix -d "$T/dump/%H%M%S." "127.0.0.1:$dump_port" 64 &
pids+=($!)

mkdir -p "$T/etc" "$T/queue" "$T/data"
chown postfix "$T/data"
cp /etc/postfix/master.cf "$T/etc/master.cf"
# no smtpd: mail comes in through sendmail(1) only
sed -i 's/^smtp      inet/#smtp      inet/' "$T/etc/master.cf"
transport="lists.example.org=smtp:[127.0.0.1]:$dump_port"
i=0
for c in "${cases[@]}"; do
  IFS='|' read -r name kind reply <<<"$c"
  i=$((i + 1))
  p=$(free_port)
  if [ "$kind" = hard ]; then
    smtp-sink -u postfix -f RCPT -B "$reply" "127.0.0.1:$p" 8 &
  else
    smtp-sink -u postfix -r RCPT -b "$reply" "127.0.0.1:$p" 8 &
  fi
  pids+=($!)
  transport="$transport, d$i.example.net=smtp:[127.0.0.1]:$p"
done
cat > "$T/etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $T/queue
data_directory = $T/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.example.com
mydomain = example.com
myorigin = \$myhostname
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
relay_domains =
transport_maps = inline:{ $transport }
smtp_dns_support_level = disabled
smtp_tls_security_level = none
maximal_queue_lifetime = 0
bounce_queue_lifetime = 0
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
alias_maps =
alias_database =
local_recipient_maps =
biff = no
EOF
postfix -c "$T/etc" check
postfix -c "$T/etc" start
sleep 1

token=aeaaaaaacuthisisnotarealmac2
i=0
for c in "${cases[@]}"; do
  IFS='|' read -r name kind reply <<<"$c"
  i=$((i + 1))
  printf 'From: News <news@lists.example.org>\nTo: ann@d%s.example.net\nSubject: March news\nMessage-ID: <j7.s%s.0123456789ab@lists.example.org>\nDate: Fri, 1 Mar 2024 12:00:00 +0000\n\nHello Ann,\n\nthe March news.\n' "$i" "$i" |
    /usr/sbin/sendmail -C "$T/etc" -f "news-bounces+$token@lists.example.org" "ann@d$i.example.net"
  for _ in $(seq 100); do
    f=$(grep -l "^To: ann@d$i.example.net" "$T"/dump/* 2>/dev/null | head -1 || true)
    [ -z "$f" ] && f=$(grep -l "<ann@d$i.example.net>" "$T"/dump/* 2>/dev/null | head -1 || true)
    [ -n "$f" ] && break
    sleep 0.2
  done
  [ -n "$f" ] || { echo "no bounce for $name" >&2; exit 1; }
  # drop smtp-sink's own X-Client-*, X-Helo-Args, X-Mail-Args, X-Rcpt-Args lines
  awk 'NR == 1, /^[^X]/ { if ($0 ~ /^X-(Client-|Helo-Args|Mail-Args|Rcpt-Args)/) next } { print }' "$f" > "$OUT/$name.eml"
  rm -f "$f"
  echo "$name.eml"
done
