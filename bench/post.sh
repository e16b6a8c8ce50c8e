#!/usr/bin/env bash
# bench/post.sh: posts per second through the intake of a discussion list,
# from LMTP DATA to the distribution job queued, without content filters and
# with the real clamd and spamd (tests/cli/filters_lib.bash starts them),
# side by side in one run. N posts of about 4 KB from a member go over one
# LMTP connection (Python's smtplib.LMTP) to `serve --role intake`; the clock
# stops when N distribution jobs are in the store. No delivery role: this
# measures the post path (checks, filters, preparation, sealing), not the
# engine (bench/send.sh measures that).
#   usage: bench/post.sh PATH/TO/listkeeper [N]
set -euo pipefail
LK=$(readlink -f "${1:?listkeeper binary}")
N=${2:-50}
here=$(dirname "$(readlink -f "$0")")
cd "$here/../tests/cli"
. ./lib.bash
. ./filters_lib.bash
kill_at_exit serve_pid
lk init --dir "$T" --domain lists.example.org >/dev/null
export LISTKEEPER_LOG_LEVEL=warn LISTKEEPER_DMARC_DNS=no LISTKEEPER_DELIVERY_RELAY="maildir:$T/out"
lk list create club --kind discussion --posting-policy members --postal-address "1 Main St" >/dev/null
printf 'email,name\nann@example.org,Ann\n' > "$T/p.csv"
lk import club "$T/p.csv" --confirmed --consent-note bench >/dev/null
. ./intake_lib.bash

jobs_n() { sqlite3 "$T/listkeeper.db" "SELECT count(*) FROM jobs WHERE kind = 'distribution'"; }
# run LABEL: N posts over LMTP, then the posts/s until N more jobs exist
run() {
  lmtp_serve intake || { echo "serve did not start"; exit 1; }
  local before t0 t1
  before=$(jobs_n)
  t0=$(date +%s.%N)
  python3 - "$port" "$N" <<'PY'
import smtplib, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
body = "\r\n".join(["Some words of a post to the list, to make it four kilobytes."] * 64)
s = smtplib.LMTP("127.0.0.1", port)
for i in range(n):
    msg = (f"From: Ann <ann@example.org>\r\nTo: club@lists.example.org\r\nSubject: post {i}\r\n"
           f"Message-ID: <b{i}.{id(s)}@example.org>\r\n\r\n{body}\r\n")
    s.sendmail("ann@example.org", ["club@lists.example.org"], msg)
s.quit()
PY
  while [ "$(jobs_n)" -lt $((before + N)) ]; do sleep 0.05; done
  t1=$(date +%s.%N)
  kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; serve_pid=
  printf '%-34s %6d posts %8.2f s %8.1f posts/s\n' "$1" "$N" "$(echo "$t1 - $t0" | bc)" \
    "$(echo "$N / ($t1 - $t0)" | bc -l)"
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
run "no filters"
clamd_start && spamd_start || { echo "clamd or spamd did not start"; exit 1; }
export LISTKEEPER_FILTER_CLAMD="unix:$CLAMD_SOCK" LISTKEEPER_FILTER_SPAM="spamd:127.0.0.1:$SPAMD_PORT"
run "clamd (INSTREAM) + spamd (SYMBOLS)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
