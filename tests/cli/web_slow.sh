#!/usr/bin/env bash
# Slow clients (slowloris) against a live `serve --role web`, on loopback,
# bounded in time: 300 connections from one client (127.0.0.2) that each
# send a header line every 2 s are held to [http] max_conns_per_ip, and
# ordinary requests from another (127.0.0.1) keep answering meanwhile; a
# client that sends its headers, or its body, a line or a byte a second is
# cut at [http] request_timeout, though it is never idle for the 30 s of the
# idle timeout; a client under the deadline is served.
LK=$1
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/mail_lib.bash" # must_serve, req

lk init --dir "$T" >/dev/null
lk list create news >/dev/null
export LISTKEEPER_HTTP_LISTEN=127.0.0.1:0 LISTKEEPER_HTTP_REQUEST_TIMEOUT=4
must_serve --role web
hostport=${url#http://}

# --- 300 slow connections from one client ---------------------------------
python3 - "$hostport" >"$T/slow.out" <<'PY'
import select, socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
port = int(port)
slow = []
for i in range(300):
    s = socket.socket()
    s.setblocking(False)
    s.bind(("127.0.0.2", 0))
    try:
        s.connect((host, port))
    except BlockingIOError:
        pass
    slow.append(s)
time.sleep(0.5)
for s in slow:  # the request line and a first header, then one line every 2 s
    try:
        s.send(b"GET /l/news HTTP/1.1\r\nHost: x\r\n")
    except OSError:
        pass
def alive():  # still open: a read would block (no EOF, no reset)
    n = 0
    for s in slow:
        try:
            s.recv(1)
        except BlockingIOError:
            n += 1
        except OSError:
            pass
    return n
time.sleep(1)
kept = alive()
ok = fail = 0
start = time.time()
next_line = start + 2
while time.time() - start < 8:
    t0 = time.time()
    try:  # an ordinary request from another client
        c = socket.create_connection((host, port), timeout=3, source_address=("127.0.0.1", 0))
        c.sendall(b"GET /l/news HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            b = c.recv(65536)
            if not b:
                break
            data += b
        c.close()
        if data.startswith(b"HTTP/1.1 200"):
            ok += 1
        else:
            fail += 1
    except OSError:
        fail += 1
    if time.time() >= next_line:
        for s in slow:
            try:
                s.send(b"X-Slow: 1\r\n")
            except OSError:
                pass
        next_line += 2
    time.sleep(max(0, 0.4 - (time.time() - t0)))
print("ordinary", ok, fail)
print("slow-alive", kept)
PY
read -r _ ok fail < <(grep '^ordinary' "$T/slow.out")
read -r _ alive < <(grep '^slow-alive' "$T/slow.out")
echo "# 300 slow connections: $alive kept open; ordinary requests: $ok answered, $fail failed"
check "ordinary requests are answered meanwhile" [ "${ok:-0}" -ge 15 ]
check "... all of them (none failed)" [ "${fail:-1}" = 0 ]
check "one client keeps at most max_conns_per_ip (32) open" [ "${alive:-999}" -le 32 ]
check "... and it does keep those (a cap, not a ban)" [ "${alive:-0}" -ge 16 ]
check "the server still answers" [ "$(req /l/news)" = 200 ]

# --- the whole-request deadline -------------------------------------------
# drip HEAD BODY-BYTES: the time (s) until the server closes a connection
# that sends HEAD one line a second, then (with a Content-Length) its body
# one byte a second; 15 s at most
drip() {
  python3 - "$hostport" "$1" "$2" <<'PY'
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
lines, body = int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((host, int(port)), timeout=1, source_address=("127.0.0.3", 0))
start = time.time()
parts = [b"POST /l/news HTTP/1.1\r\n" if body else b"GET /l/news HTTP/1.1\r\n", b"Host: x\r\n"]
parts += [b"X-Slow: %d\r\n" % i for i in range(lines)]
if body:
    parts += [b"Content-Type: application/x-www-form-urlencoded\r\n", b"Content-Length: 100\r\n\r\n"]
    parts += [b"a"] * 100
else:
    parts += [b"\r\n"]
for p in parts:
    try:
        s.send(p)
        s.settimeout(1)
        if s.recv(4096) == b"":
            break
    except socket.timeout:
        pass
    except OSError:
        break
    if time.time() - start > 15:
        break
print("%.1f" % (time.time() - start))
PY
}
t=$(drip 30 0)
echo "# headers a line a second: cut after ${t}s"
check "headers sent a line a second are cut at request_timeout (4 s), not kept" \
  python3 -c "import sys; sys.exit(not 3 <= $t <= 7)"
t=$(drip 1 100)
echo "# a body a byte a second: cut after ${t}s"
check "a body sent a byte a second is cut at request_timeout too" \
  python3 -c "import sys; sys.exit(not 3 <= $t <= 7)"
check "a request within the deadline is served" [ "$(req /l/news)" = 200 ]

stop
finish
