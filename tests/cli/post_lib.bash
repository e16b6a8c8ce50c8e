# Shared by the discussion-list scenario tests (post_distrib.sh,
# post_filters.sh): source it after lib.bash, `lk init` and the [filter]
# settings. post_setup makes the discussion list club (members post; owner
# boss@; a footer and a postal address) with two members, ann@ and bob@,
# and starts `serve --role intake --role delivery` (intake_lib.bash) whose
# mail goes into the Maildir $T/out; strict.example publishes DMARC
# p=reject ([dmarc] override).
post_setup() {
  lk list create club --title "The Club" --kind discussion --postal-address "1 Main St" \
    --posting-policy members >/dev/null
  lk list set club owners boss@example.org >/dev/null
  lk list set club footer "Be kind." >/dev/null
  printf 'email,name\nann@example.org,Ann\nbob@example.org,Bob\n' > "$T/p.csv"
  lk import club "$T/p.csv" --confirmed --consent-note test >/dev/null
  # no DNS in the tests: the DMARC policies are [dmarc] override's
  export LISTKEEPER_DMARC_DNS=no LISTKEEPER_DMARC_OVERRIDE="strict.example=reject"
  . "$(dirname "$0")/intake_lib.bash"
  intake_serve
}

# got SUBJECT: one line per message whose Subject holds SUBJECT: its envelope
# recipient (Delivered-To) and subject
got() {
  python3 - "$T/out/new" "$1" <<'PY'
import email, email.policy, os, sys
d, s = sys.argv[1], sys.argv[2]
for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
    m = email.message_from_binary_file(open(os.path.join(d, f), "rb"), policy=email.policy.default)
    if s in str(m["Subject"]):
        print(m["Delivered-To"].strip("<> "), "|", m["Subject"])
PY
}
n_got() { got "$1" | wc -l; }
