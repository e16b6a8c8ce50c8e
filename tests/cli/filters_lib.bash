# Real content-filter daemons for the scenario tests: clamd (Debian
# clamav-daemon) on a Unix socket and a loopback TCP port, and spamd (Debian
# spamd) on a free loopback port, both in $T and stopped at exit. Source it
# after lib.bash.
#
# Debian ships no ClamAV signature database and freshclam cannot reach the
# net, so the database is made here, as ClamAV's own unit tests make theirs:
# an .ndb body signature for the EICAR string and an .hsb hash signature
# (sha256:size:name, what `sigtool --sha256` prints) of clamav-testfiles'
# clam.exe. spamd runs with the rules Debian ships, network tests off (-L).
EICAR='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
GTUBE='XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'
CLAM_EXE=/usr/share/clamav-testfiles/clam.exe
# the interpreter itself, not a wrapper that would outlive a kill of its pid
PY=$(python3 -c 'import sys; print(sys.executable)')
clamd_pid= spamd_pid=

# clamd_start: clamd with the test database, StreamMaxLength 2M, listening
# on $CLAMD_SOCK and 127.0.0.1:$CLAMD_PORT; true once it answers PING (20 s)
clamd_start() {
  local d=$T/clamd hex h
  mkdir -p "$d/db"
  CLAMD_SOCK=$d/clamd.sock
  if [ ! -f "$d/db/test.ndb" ]; then
    hex=$(printf '%s' "$EICAR" | od -An -tx1 | tr -d ' \n')
    echo "Eicar-Test-Signature:0:*:$hex" > "$d/db/test.ndb"
    h=$(sha256sum "$CLAM_EXE" | cut -d' ' -f1)
    echo "$h:$(stat -c %s "$CLAM_EXE"):ClamAV-Test-File" > "$d/db/test.hsb"
  fi
  CLAMD_PORT=$(free_port)
  cat > "$d/clamd.conf" <<CONF
Foreground yes
LocalSocket $CLAMD_SOCK
TCPSocket $CLAMD_PORT
TCPAddr 127.0.0.1
DatabaseDirectory $d/db
LogFile $d/clamd.log
TemporaryDirectory $d
StreamMaxLength 2M
CONF
  rm -f "$CLAMD_SOCK"
  clamd -c "$d/clamd.conf" > /dev/null 2>&1 < /dev/null &
  clamd_pid=$!
  local i
  for i in $(seq 400); do
    [ -S "$CLAMD_SOCK" ] && [ "$(daemon_say "unix:$CLAMD_SOCK" 'zPING\0')" = PONG ] && return 0
    kill -0 "$clamd_pid" 2>/dev/null || break
    sleep 0.05
  done
  return 1
}
clamd_stop() { stop_daemon clamd_pid; }

# spamd_start: spamd on 127.0.0.1:$SPAMD_PORT (five ports at most); true once
# it answers PING (60 s each: it compiles its rules first)
spamd_start() {
  local i as=()
  [ "$(id -u)" != 0 ] || as=(-u nobody) # spamd refuses to run its children as root
  for _ in 1 2 3 4 5; do
    SPAMD_PORT=$(free_port)
    setsid spamd -L --nouser-config "${as[@]}" --listen="127.0.0.1:$SPAMD_PORT" \
      --max-children=2 --min-children=1 -s stderr > "$T/spamd.log" 2>&1 < /dev/null &
    spamd_pid=$!
    for i in $(seq 1200); do
      [ "$(daemon_say "127.0.0.1:$SPAMD_PORT" 'PING SPAMC/1.5\r\n\r\n')" = "SPAMD/1.5 0 PONG" ] &&
        return 0
      kill -0 "$spamd_pid" 2>/dev/null || break
      sleep 0.05
    done
    stop_daemon spamd_pid
  done
  return 1
}
spamd_stop() { stop_daemon spamd_pid; }

# daemon_say unix:PATH|HOST:PORT BYTES: sends BYTES (printf escapes), prints
# the first line of the answer (NUL and CR taken off); nothing if none in 2 s
daemon_say() {
  "$PY" - "$1" "$2" <<'PY' 2>/dev/null || true
import socket, sys
where, data = sys.argv[1], sys.argv[2].encode().decode("unicode_escape").encode("latin-1")
if where.startswith("unix:"):
    s = socket.socket(socket.AF_UNIX); s.settimeout(2); s.connect(where[5:])
else:
    h, p = where.rsplit(":", 1); s = socket.create_connection((h, int(p)), timeout=2)
s.sendall(data); r = b""
while b"\n" not in r and b"\0" not in r:
    c = s.recv(512)
    if not c: break
    r += c
print(r.replace(b"\0", b"\n").split(b"\n")[0].rstrip(b"\r").decode("latin-1"))
PY
}

# stop_daemon VAR: SIGTERM to the daemon whose pid VAR holds (and to its
# process group: spamd's children), SIGKILL after 10 s; VAR emptied
stop_daemon() {
  local v=$1 p=${!1:-} i
  [ -n "$p" ] || return 0
  kill -TERM "$p" 2>/dev/null || true
  for i in $(seq 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
  kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
  printf -v "$v" ''
}
# fake_daemon silent|garbage: a daemon on a free loopback port ($fake_port,
# pid $fake_pid) that accepts and never answers, or reads a request and
# answers with an HTTP reply; true once it listens (10 s)
fake_daemon() {
  fake_port=$(free_port)
  "$PY" -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
conns = []
while True:
    c, _ = s.accept()
    if sys.argv[2] == "silent":
        conns.append(c); continue
    c.settimeout(5)
    try:
        d = b""
        while not (d.endswith(b"\0\0\0\0") or b"\r\n\r\n" in d):
            r = c.recv(65536)
            if not r: break
            d += r
        c.sendall(b"HTTP/1.0 200 OK\r\n\r\nhello")
    except OSError: pass
    c.close()
' "$fake_port" "$1" > /dev/null 2>&1 < /dev/null &
  fake_pid=$!
  local i
  for i in $(seq 200); do
    "$PY" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' \
      "$fake_port" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# at exit: the daemons first, then lib.bash's at_exit (which removes $T)
trap 'rc=$?; clamd_stop; spamd_stop; (exit $rc); at_exit' EXIT
