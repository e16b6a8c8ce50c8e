#!/usr/bin/env python3
"""fault_relay.py - a fault-injecting ESMTP relay for listkeeper's tests.

Python 3 standard library only (asyncio). Listens on 127.0.0.1 only, prints
the port it listens on as the first line of stdout, and stops by itself
after --max-seconds. Speaks ESMTP with PIPELINING, SIZE, 8BITMIME, optionally
STARTTLS (--starttls CERT KEY) and AUTH PLAIN/LOGIN over TLS (--auth U:P,
--auth-mechs "LOGIN" to offer only some).

Every accepted message is appended to --record FILE as one JSON line:
  {"event": "message", "seq", "conn", "mail_from", "mail_params", "rcpt": [...],
   "data_b64", "pipelined", "tls", "auth", "helo", "violations": [...]}
"pipelined" is true when MAIL FROM and DATA of that transaction arrived in
the same read. When a session ends a line {"event": "session", "conn",
"quit", "tls", "messages"} follows. A test can so check "none lost, none
twice", that pipelining was used, and that a dropped session was replaced.

Faults, scripted on the command line:
  --fail CMD:CODE[:EVERY]   answer CODE at the EVERY-th CMD (default every
                            one); CMD: CONNECT EHLO HELO STARTTLS AUTH MAIL
                            RCPT DATA DOT RSET. 421 also closes the session.
  --hang CMD                never answer CMD (the client must time out).
  --bad-reply CMD:KIND      answer CMD with a malformed reply; KIND: longline
                            (a 2000-byte line), manylines (150 lines),
                            badcode, barelf, mixedcodes.
Per recipient, by the local part's prefix (state shared by all sessions):
  rcptNNN-x@d     RCPT is answered NNN        dotNNN-x@d   the dot is answered NNN
  oncercptNNN-, oncedotNNN-                   the same, the first time only
  dropdata-x@d    the session is dropped in the middle of the message data
  oncedropdata-   the same, the first time only
  dropdot-x@d     the whole message is read, then the session is dropped
Server behaviour switches: --no-esmtp (EHLO gets 502), --no-pipelining,
--no-8bitmime, --size N (0: no limit announced), --require-tls.
"""
import argparse
import asyncio
import base64
import json
import re
import ssl
import sys

MAX_LINE = 4096


def parse_args():
    p = argparse.ArgumentParser(description="fault-injecting SMTP test relay")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--max-seconds", type=float, default=120)
    p.add_argument("--record", default=None)
    p.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--require-tls", action="store_true")
    p.add_argument("--auth", default=None, metavar="USER:PASS")
    p.add_argument("--auth-mechs", default="PLAIN LOGIN")
    p.add_argument("--no-esmtp", action="store_true")
    p.add_argument("--no-pipelining", action="store_true")
    p.add_argument("--no-8bitmime", action="store_true")
    p.add_argument("--size", type=int, default=10485760)
    p.add_argument("--fail", action="append", default=[])
    p.add_argument("--hang", action="append", default=[])
    p.add_argument("--bad-reply", action="append", default=[])
    a = p.parse_args()
    a.fail_rules = []
    for f in a.fail:
        parts = f.split(":")
        if len(parts) not in (2, 3) or not re.fullmatch(r"[2-5]\d\d", parts[1]):
            p.error("--fail CMD:CODE[:EVERY]")
        every = int(parts[2]) if len(parts) == 3 else 1
        a.fail_rules.append((parts[0].upper(), int(parts[1]), every))
    a.bad_rules = {}
    for b in a.bad_reply:
        cmd, _, kind = b.partition(":")
        if kind not in ("longline", "manylines", "badcode", "barelf", "mixedcodes"):
            p.error("--bad-reply CMD:KIND")
        a.bad_rules[cmd.upper()] = kind
    a.hang = {h.upper() for h in a.hang}
    return a


class Server:
    def __init__(self, args):
        self.args = args
        self.counts = {}  # command -> times seen
        self.seen_once = set()  # recipients whose "once" fault fired
        self.seq = 0
        self.conns = 0
        self.rec = open(args.record, "a", encoding="utf-8") if args.record else None
        self.tls_ctx = None
        if args.starttls:
            self.tls_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.tls_ctx.load_cert_chain(args.starttls[0], args.starttls[1])

    def record(self, obj):
        if self.rec:
            self.rec.write(json.dumps(obj) + "\n")
            self.rec.flush()

    def count(self, cmd):
        self.counts[cmd] = self.counts.get(cmd, 0) + 1
        for c, code, every in self.args.fail_rules:
            if c == cmd and self.counts[cmd] % every == 0:
                return code
        return None

    def rcpt_rule(self, rcpt, where):
        """The code a recipient's local part asks for at where (rcpt or dot)."""
        local = rcpt.split("@", 1)[0].lower()
        m = re.match(r"(once)?(rcpt|dot)(\d\d\d)-", local)
        if m and m.group(2) == where:
            if m.group(1):
                if (rcpt, where) in self.seen_once:
                    return None
                self.seen_once.add((rcpt, where))
            return int(m.group(3))
        return None

    def drop_rule(self, rcpt, where):
        """True if the recipient's local part asks to drop the session at where."""
        local = rcpt.split("@", 1)[0].lower()
        m = re.match(r"(once)?drop(data|dot)-", local)
        if m and m.group(2) == where:
            if m.group(1):
                if (rcpt, "drop" + where) in self.seen_once:
                    return False
                self.seen_once.add((rcpt, "drop" + where))
            return True
        return False


TEXT = {
    250: "2.0.0 Ok", 421: "4.3.2 Service shutting down", 451: "4.3.0 Local error",
    452: "4.3.1 Insufficient system storage", 550: "5.1.1 Mailbox unavailable",
    554: "5.3.0 Transaction failed", 552: "5.3.4 Message too big",
}


class Session(asyncio.Protocol):
    def __init__(self, server):
        self.s = server
        self.a = server.args
        server.conns += 1
        self.id = server.conns
        self.buf = b""
        self.chunk = 0
        self.state = "cmd"  # cmd | data | auth_plain | auth_user | auth_pass | tls | dead
        self.helo = None
        self.tls = False
        self.authed = None
        self.quit = False
        self.messages = 0
        self.recorded = False
        self.reset()

    def record_session(self):
        """Once per session, and before the client can see the end of it, so
        that a test that stops this process right after its QUIT finds it."""
        if not self.recorded:
            self.recorded = True
            self.s.record({"event": "session", "conn": self.id, "quit": self.quit,
                           "tls": self.tls, "messages": self.messages})

    def reset(self):
        self.mail_from = None
        self.mail_params = ""
        self.mail_chunk = None
        self.rcpts = []
        self.data = bytearray()
        self.data_faults = []
        self.violations = []
        self.pipelined = False

    # -- output --
    def send(self, raw):
        if self.state != "dead":
            self.t.write(raw)

    def reply(self, code, text=None, cmd=None):
        if code == 421:
            self.record_session()
        kind = self.a.bad_rules.get(cmd) if cmd else None
        if kind == "longline":
            self.send(b"%d-" % code + b"x" * 2000 + b"\r\n%d ok\r\n" % code)
        elif kind == "manylines":
            self.send(b"".join(b"%d-line %d\r\n" % (code, i) for i in range(150)) + b"%d ok\r\n" % code)
        elif kind == "badcode":
            self.send(b"2x0 not a code\r\n")
        elif kind == "barelf":
            self.send(b"%d ok\n" % code)
        elif kind == "mixedcodes":
            self.send(b"%d-first\r\n%d second\r\n" % (code, code + 1))
        else:
            self.send(b"%d %s\r\n" % (code, (text or TEXT.get(code, "reply")).encode()))
        if code == 421:
            self.close()

    def close(self):
        self.record_session()
        if self.state != "dead":
            self.state = "dead"
            self.t.close()

    # -- asyncio --
    def connection_made(self, transport):
        self.t = transport
        code = self.s.count("CONNECT")
        if "CONNECT" in self.a.hang:
            self.state = "hung"
            return
        if code:
            self.reply(code, cmd="CONNECT")
            if code >= 400:
                self.close()
            return
        self.reply(220, "fault-relay ESMTP ready", cmd="CONNECT")

    def connection_lost(self, exc):
        self.record_session()

    def data_received(self, data):
        self.chunk += 1
        self.buf += data
        self.process()

    def process(self):
        while self.state not in ("dead", "hung", "tls"):
            i = self.buf.find(b"\r\n")
            if self.state == "data" and "dropdata" in self.data_faults and self.buf:
                self.close()  # mid-DATA: some of the body is here, no reply
                return
            if i < 0:
                if len(self.buf) > MAX_LINE and self.state != "data":
                    self.send(b"500 5.5.2 Line too long\r\n")
                    self.close()
                return
            line, self.buf = self.buf[:i], self.buf[i + 2:]
            if self.state == "data":
                self.data_line(line)
            elif self.state.startswith("auth"):
                self.auth_step(line)
            else:
                self.command(line)

    # -- DATA --
    def data_line(self, line):
        if b"\n" in line or b"\r" in line:
            self.violations.append("bare CR or LF in data")
        if line != b".":
            if line.startswith(b"."):
                line = line[1:]
            self.data += line + b"\r\n"
            return
        if "DOT" in self.a.hang:
            self.state = "hung"
            self.s.record({"event": "hung", "conn": self.id, "cmd": "DOT"})
            return
        self.state = "cmd"
        if "dropdot" in self.data_faults:
            self.close()
            return
        code = self.s.count("DOT")
        for r in self.rcpts:
            c = self.s.rcpt_rule(r, "dot")
            if c is not None and code is None:
                code = c
        if code is None and self.a.size and len(self.data) > self.a.size:
            code = 552
        if code is None or code < 400:
            self.s.seq += 1
            self.messages += 1
            self.s.record({
                "event": "message", "seq": self.s.seq, "conn": self.id,
                "mail_from": self.mail_from, "mail_params": self.mail_params,
                "rcpt": self.rcpts, "data_b64": base64.b64encode(bytes(self.data)).decode(),
                "pipelined": self.pipelined, "tls": self.tls, "auth": self.authed,
                "helo": self.helo, "violations": self.violations,
            })
            self.reply(code or 250, "2.0.0 Ok: queued as %d" % self.s.seq, cmd="DOT")
        else:
            self.reply(code, cmd="DOT")
        self.reset()

    # -- AUTH --
    def auth_ok(self, user, password):
        want = self.a.auth.split(":", 1)
        if [user, password] == want:
            self.authed = user
            self.reply(235, "2.7.0 Authentication successful")
        else:
            self.reply(535, "5.7.8 Authentication failed")

    def auth_step(self, line):
        try:
            raw = base64.b64decode(line, validate=True)
        except Exception:
            self.state = "cmd"
            self.reply(501, "5.5.2 bad base64")
            return
        if self.state == "auth_plain":
            self.state = "cmd"
            parts = raw.split(b"\0")
            if len(parts) != 3:
                self.reply(501, "5.5.2 bad PLAIN")
                return
            self.auth_ok(parts[1].decode("latin-1"), parts[2].decode("latin-1"))
        elif self.state == "auth_user":
            self.auth_user = raw.decode("latin-1")
            self.state = "auth_pass"
            self.send(b"334 UGFzc3dvcmQ6\r\n")
        else:
            self.state = "cmd"
            self.auth_ok(self.auth_user, raw.decode("latin-1"))

    # -- commands --
    def ehlo_lines(self):
        ext = []
        if not self.a.no_pipelining:
            ext.append("PIPELINING")
        ext.append("SIZE %d" % self.a.size if self.a.size else "SIZE")
        if not self.a.no_8bitmime:
            ext.append("8BITMIME")
        if self.s.tls_ctx and not self.tls:
            ext.append("STARTTLS")
        if self.a.auth and self.tls:
            ext.append("AUTH " + self.a.auth_mechs)
        return ext

    def command(self, line):
        try:
            text = line.decode("ascii")
        except UnicodeDecodeError:
            self.reply(500, "5.5.2 non-ASCII command")
            return
        verb = text.split(" ", 1)[0].upper()
        arg = text[len(verb):].strip()
        cmd = {"EHLO": "EHLO", "HELO": "HELO", "STARTTLS": "STARTTLS", "AUTH": "AUTH",
               "MAIL": "MAIL", "RCPT": "RCPT", "DATA": "DATA", "RSET": "RSET"}.get(verb)
        if cmd in self.a.hang:
            self.state = "hung"
            self.s.record({"event": "hung", "conn": self.id, "cmd": cmd})
            return
        code = self.s.count(cmd) if cmd else None
        if verb == "QUIT":
            self.quit = True
            self.record_session()
            self.send(b"221 2.0.0 Bye\r\n")
            self.close()
            return
        if verb == "NOOP":
            self.reply(250)
            return
        if code is not None:
            self.reply(code, cmd=cmd)
            if cmd == "DATA":
                self.reset()
            return
        getattr(self, "cmd_" + verb.lower(), self.cmd_unknown)(arg, cmd)

    def cmd_unknown(self, arg, cmd):
        self.reply(502, "5.5.2 command not recognized")

    def cmd_ehlo(self, arg, cmd):
        if self.a.no_esmtp:
            self.reply(502, "5.5.2 no ESMTP here")
            return
        self.helo = arg
        self.reset()
        ext = self.ehlo_lines()
        kind = self.a.bad_rules.get("EHLO")
        if kind:
            self.reply(250, cmd="EHLO")
            return
        lines = ["fault-relay"] + ext
        out = b"".join(b"250-%s\r\n" % l.encode() for l in lines[:-1])
        out += b"250 %s\r\n" % lines[-1].encode()
        self.send(out)

    def cmd_helo(self, arg, cmd):
        self.helo = arg
        self.reset()
        self.reply(250, "fault-relay", cmd="HELO")

    def cmd_starttls(self, arg, cmd):
        if not self.s.tls_ctx or self.tls:
            self.reply(502, "5.5.1 STARTTLS not available")
            return
        if self.buf:
            self.violations.append("data pipelined after STARTTLS")
            self.buf = b""
        self.reply(220, "2.0.0 Ready to start TLS", cmd="STARTTLS")
        self.state = "tls"
        asyncio.ensure_future(self.upgrade())

    async def upgrade(self):
        loop = asyncio.get_running_loop()
        try:
            t = await loop.start_tls(self.t, self, self.s.tls_ctx, server_side=True)
        except Exception:
            self.state = "dead"
            self.t.abort()
            return
        if t is None:
            self.state = "dead"
            return
        self.t = t
        self.tls = True
        self.helo = None
        self.state = "cmd"
        self.reset()
        self.process()

    def cmd_auth(self, arg, cmd):
        if not self.a.auth or not self.tls:
            self.reply(503, "5.5.1 AUTH not available")
            return
        parts = arg.split()
        mech = parts[0].upper() if parts else ""
        if mech not in self.a.auth_mechs.upper().split():
            self.reply(504, "5.5.4 mechanism not supported")
        elif mech == "PLAIN":
            self.state = "auth_plain"
            if len(parts) > 1:
                self.auth_step(parts[1].encode())
            else:
                self.send(b"334 \r\n")
        elif mech == "LOGIN":
            self.state = "auth_user"
            self.send(b"334 VXNlcm5hbWU6\r\n")
        else:
            self.reply(504, "5.5.4 mechanism not supported")

    def cmd_mail(self, arg, cmd):
        m = re.fullmatch(r"(?i)FROM:<([^<> ]*)>(.*)", arg)
        if not self.helo:
            self.reply(503, "5.5.1 EHLO first")
        elif self.a.require_tls and not self.tls:
            self.reply(530, "5.7.0 Must issue a STARTTLS command first")
        elif self.a.auth and not self.authed:
            self.reply(530, "5.7.0 Authentication required")
        elif self.mail_from is not None:
            self.reply(503, "5.5.1 nested MAIL command")
        elif not m:
            self.reply(501, "5.5.4 syntax")
        else:
            params = m.group(2).strip()
            sz = re.search(r"(?i)\bSIZE=(\d+)", params)
            if sz and self.a.size and int(sz.group(1)) > self.a.size:
                self.reply(552, cmd="MAIL")
                return
            self.reset()
            self.mail_from = m.group(1)
            self.mail_params = params
            self.mail_chunk = self.chunk
            self.reply(250, cmd="MAIL")

    def cmd_rcpt(self, arg, cmd):
        m = re.fullmatch(r"(?i)TO:<([^<> ]+)>.*", arg)
        if self.mail_from is None:
            self.reply(503, "5.5.1 need MAIL")
            return
        if not m:
            self.reply(501, "5.5.4 syntax")
            return
        rcpt = m.group(1)
        code = self.s.rcpt_rule(rcpt, "rcpt")
        if code is not None:
            self.reply(code, cmd="RCPT")
            return
        self.rcpts.append(rcpt)
        for where in ("data", "dot"):
            if self.s.drop_rule(rcpt, where):
                self.data_faults.append("drop" + where)
        self.reply(250, cmd="RCPT")

    def cmd_data(self, arg, cmd):
        if self.mail_from is None:
            self.reply(503, "5.5.1 need MAIL")
            return
        if not self.rcpts:
            self.reply(554, "5.5.1 no valid recipients")
            return
        self.pipelined = self.mail_chunk == self.chunk
        self.state = "data"
        self.data = bytearray()
        self.reply(354, "End data with <CR><LF>.<CR><LF>", cmd="DATA")

    def cmd_rset(self, arg, cmd):
        self.reset()
        self.reply(250, cmd="RSET")


async def main():
    args = parse_args()
    server = Server(args)
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(lambda: Session(server), "127.0.0.1", args.port)
    print(srv.sockets[0].getsockname()[1], flush=True)
    try:
        await asyncio.wait_for(srv.serve_forever(), timeout=args.max_seconds)
    except (asyncio.TimeoutError, asyncio.CancelledError):
        pass


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
