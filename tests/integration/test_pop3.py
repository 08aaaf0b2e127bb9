"""POP3 (src/proto/pop3) driven by Python's poplib and raw sockets: every
command and every refusal, STLS and implicit TLS, SASL, the snapshot
semantics, EXPIRE and LOGIN-DELAY."""
import os
import poplib
import socket
import ssl
import subprocess
import time

import pytest

from conftest import BUILD

FILL = os.path.join(BUILD, "tests", "unit", "proto", "pop3", "hermod-test-fill")
USER, PASSWORD = "alice@example.test", "alice-secret"


def fill(h, address, *messages, generate=None):
    """Puts messages (bytes) into address's Inbox through the store."""
    paths = []
    for i, m in enumerate(messages):
        p = os.path.join(h.dir, f"msg-{time.time_ns()}-{i}.eml")
        with open(p, "wb") as f:
            f.write(m)
        paths.append(p)
    args = [FILL, h.data_dir, address]
    args += ["--generate", str(generate[0]), str(generate[1])] if generate else paths
    subprocess.run(args, check=True, timeout=120)


MSG1 = (b"From: Bob <bob@example.test>\r\nTo: alice@example.test\r\nSubject: one\r\n\r\n"
        b"first line\r\n.starts with a dot\r\n..two dots\r\n.\r\nlast line\r\n")
MSG2 = (b"From: Carol <carol@example.test>\r\nSubject: two\r\n\r\n" +
        b"".join(b"body line %d\r\n" % i for i in range(50)))
MSG3 = b"Subject: three\r\n\r\nshort\r\n"


@pytest.fixture
def pop(hermod):
    hermod.add_user(USER, PASSWORD)
    fill(hermod, USER, MSG1, MSG2, MSG3)
    return hermod


def connect(h, **kw):
    return poplib.POP3("127.0.0.1", h.port("pop3"), timeout=10, **kw)


def login(h):
    p = connect(h)
    p.user(USER)
    p.pass_(PASSWORD)
    return p


def err(excinfo):
    return excinfo.value.args[0] if isinstance(excinfo.value.args[0], bytes) \
        else str(excinfo.value).encode()


def joined(lines):
    return b"".join(line + b"\r\n" for line in lines)


class Raw:
    """A raw POP3 connection for what poplib cannot say."""

    def __init__(self, h, port=None, tls=False):
        self.sock = socket.create_connection(("127.0.0.1", port or h.port("pop3")), timeout=10)
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            self.sock = ctx.wrap_socket(self.sock)
        self.f = self.sock.makefile("rb")
        self.greeting = self.line()

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def line(self):
        return self.f.readline().rstrip(b"\r\n")

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.line()

    def multi(self):
        lines = []
        while True:
            line = self.line()
            if line == b".":
                return lines
            lines.append(line[1:] if line.startswith(b"..") else line)

    def closed(self):
        try:
            return self.f.read() == b""
        except (ConnectionResetError, socket.timeout):
            return False

    def close(self):
        self.sock.close()


# --- RFC 1939 commands ---

def test_greeting_and_capa(pop):
    p = connect(pop)
    assert p.getwelcome().startswith(b"+OK")
    capa = p.capa()
    for c in ("TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "USER", "STLS"):
        assert c in capa, c
    assert capa["SASL"] == ["PLAIN", "LOGIN"]
    assert capa["EXPIRE"] == ["NEVER"]
    assert "LOGIN-DELAY" not in capa
    p.user(USER)
    p.pass_(PASSWORD)
    capa = p.capa()
    assert "STLS" not in capa and "USER" not in capa and "TOP" in capa
    p.quit()


def test_stat_list_retr_top_uidl(pop):
    p = login(pop)
    assert p.stat() == (3, len(MSG1) + len(MSG2) + len(MSG3))
    resp, lines, _ = p.list()
    assert lines == [b"1 %d" % len(MSG1), b"2 %d" % len(MSG2), b"3 %d" % len(MSG3)]
    assert p.list(2) == b"+OK 2 %d" % len(MSG2)
    for n, m in ((1, MSG1), (2, MSG2), (3, MSG3)):
        resp, lines, octets = p.retr(n)
        assert resp.startswith(b"+OK")
        assert joined(lines) == m      # byte for byte, dot-stuffing undone
        assert octets == len(m)        # the size LIST announced is exact
    resp, lines, _ = p.top(2, 3)
    head, body = MSG2.split(b"\r\n\r\n", 1)
    assert joined(lines) == head + b"\r\n\r\n" + b"".join(body.split(b"\r\n")[i] + b"\r\n"
                                                        for i in range(3))
    resp, lines, _ = p.top(1, 0)
    assert joined(lines) == MSG1.split(b"\r\n\r\n")[0] + b"\r\n\r\n"
    resp, lines, _ = p.top(1, 100)
    assert joined(lines) == MSG1
    resp, uids, _ = p.uidl()
    assert len(uids) == 3
    ids = [u.split()[1] for u in uids]
    assert len(set(ids)) == 3
    for i in ids:
        assert 1 <= len(i) <= 70 and all(0x21 <= c <= 0x7e for c in i)
    assert p.uidl(3) == b"+OK 3 " + ids[2]
    assert p.noop() == b"+OK"
    p.quit()
    # UIDs are stable across sessions.
    p = login(pop)
    assert [u.split()[1] for u in p.uidl()[1]] == ids
    p.quit()


def test_dele_rset_quit(pop):
    p = login(pop)
    ids = [u.split()[1] for u in p.uidl()[1]]
    assert p.dele(2).startswith(b"+OK")
    assert p.stat() == (2, len(MSG1) + len(MSG3))
    assert [l.split()[0] for l in p.list()[1]] == [b"1", b"3"]
    assert [u.split()[0] for u in p.uidl()[1]] == [b"1", b"3"]
    for cmd in (lambda: p.retr(2), lambda: p.dele(2), lambda: p.list(2), lambda: p.top(2, 1),
                lambda: p.uidl(2)):
        with pytest.raises(poplib.error_proto) as e:
            cmd()
        assert b"deleted" in err(e)
    assert p.rset().startswith(b"+OK")
    assert p.stat()[0] == 3
    p.dele(1)
    p.dele(3)
    assert p.quit().startswith(b"+OK")
    # DELE took effect at QUIT; the remaining message keeps its UID and is
    # renumbered 1.
    p = login(pop)
    assert p.stat() == (1, len(MSG2))
    assert p.uidl()[1] == [b"1 " + ids[1]]
    assert joined(p.retr(1)[1]) == MSG2
    p.quit()
    # A new message gets a new UID, never a reused one.
    fill(pop, USER, MSG1)
    p = login(pop)
    new = [u.split()[1] for u in p.uidl()[1]]
    assert new[0] == ids[1] and new[1] not in ids
    p.quit()


def test_drop_without_quit_deletes_nothing(pop):
    p = login(pop)
    p.dele(1)
    p.dele(2)
    p.sock.close()
    time.sleep(0.3)
    p = login(pop)
    assert p.stat()[0] == 3
    p.quit()
    # RSET then QUIT deletes nothing either.
    p = login(pop)
    p.dele(1)
    p.rset()
    p.quit()
    p = login(pop)
    assert p.stat()[0] == 3
    p.quit()


def test_empty_maildrop(hermod):
    hermod.add_user(USER, PASSWORD)
    p = login(hermod)
    assert p.stat() == (0, 0)
    assert p.list()[1] == [] and p.uidl()[1] == []
    with pytest.raises(poplib.error_proto):
        p.retr(1)
    p.quit()


def test_large_message_streamed(hermod):
    hermod.add_user(USER, PASSWORD)
    fill(hermod, USER, generate=(1, 3 * 1024 * 1024))
    p = login(hermod)
    (n, size) = p.stat()
    resp, lines, octets = p.retr(1)
    assert octets == size and size >= 3 * 1024 * 1024
    assert sum(1 for l in lines if l.startswith(b".a line")) > 1000
    p.quit()


def test_pipelining(pop):
    r = Raw(pop)
    r.send(f"USER {USER}\r\nPASS {PASSWORD}\r\nSTAT\r\nLIST\r\nRETR 3\r\nUIDL 1\r\nNOOP\r\n"
           "QUIT\r\n")
    assert r.line().startswith(b"+OK")
    assert r.line().startswith(b"+OK Logged in")
    assert r.line() == b"+OK 3 %d" % (len(MSG1) + len(MSG2) + len(MSG3))
    assert r.line().startswith(b"+OK") and len(r.multi()) == 3
    assert r.line().startswith(b"+OK") and joined(r.multi()) == MSG3
    assert r.line().startswith(b"+OK 1 ")
    assert r.line() == b"+OK"
    assert r.line().startswith(b"+OK")
    assert r.closed()


# --- authentication ---

def test_auth_failures(pop):
    p = connect(pop)
    p.user(USER)
    with pytest.raises(poplib.error_proto) as e:
        p.pass_("wrong")
    assert err(e).startswith(b"-ERR [AUTH]")
    p.user("nobody@example.test")
    with pytest.raises(poplib.error_proto) as e:
        p.pass_("wrong")
    assert err(e).startswith(b"-ERR [AUTH]")
    # PASS without USER, and USER again resets.
    with pytest.raises(poplib.error_proto) as e:
        p.pass_(PASSWORD)
    assert b"USER first" in err(e)
    # The third failure closes the session ([pop3] max_auth_failures).
    r = Raw(pop)
    for _ in range(2):
        assert r.cmd(f"USER {USER}").startswith(b"+OK")
        assert r.cmd("PASS bad").startswith(b"-ERR [AUTH]")
    r.cmd(f"USER {USER}")
    assert r.cmd("PASS bad").startswith(b"-ERR [AUTH]")
    assert r.line().startswith(b"-ERR")
    assert r.closed()


def test_disabled_user(pop):
    pop.cli("user", "disable", USER)
    p = connect(pop)
    p.user(USER)
    with pytest.raises(poplib.error_proto) as e:
        p.pass_(PASSWORD)
    assert err(e).startswith(b"-ERR [AUTH]")


def test_throttled(hermod_factory):
    h = hermod_factory({"auth": {"max_failures_per_ip": "2"}})
    h.add_user(USER, PASSWORD)
    for _ in range(2):
        r = Raw(h)
        r.cmd(f"USER {USER}")
        assert r.cmd("PASS bad").startswith(b"-ERR [AUTH]")
        r.close()
    r = Raw(h)
    r.cmd(f"USER {USER}")
    assert r.cmd(f"PASS {PASSWORD}").startswith(b"-ERR [SYS/TEMP]")


def test_password_with_spaces(hermod):
    hermod.add_user(USER, " two words ")
    r = Raw(hermod)
    r.cmd(f"USER {USER}")
    assert r.cmd("PASS  two words ").startswith(b"+OK Logged in")


def b64(s):
    import base64
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def test_sasl_plain_and_login(pop):
    r = Raw(pop)
    assert r.cmd("AUTH").startswith(b"+OK")
    assert r.multi() == [b"PLAIN", b"LOGIN"]
    assert r.cmd("AUTH PLAIN") == b"+ "
    assert r.cmd(b64(f"\0{USER}\0{PASSWORD}")).startswith(b"+OK Logged in")
    assert r.cmd("STAT").startswith(b"+OK 3 ")
    r.close()
    # Initial response (RFC 5034 SASL-IR), with authzid = authcid.
    r = Raw(pop)
    assert r.cmd("AUTH PLAIN " + b64(f"{USER}\0{USER}\0{PASSWORD}")).startswith(b"+OK")
    r.close()
    # Another authzid is refused.
    r = Raw(pop)
    assert r.cmd("AUTH PLAIN " + b64(f"bob@example.test\0{USER}\0{PASSWORD}")) \
        .startswith(b"-ERR [AUTH]")
    assert r.cmd("AUTH PLAIN " + b64(f"\0{USER}\0wrong")).startswith(b"-ERR [AUTH]")
    r.close()
    r = Raw(pop)
    assert r.cmd("AUTH LOGIN") == b"+ " + b64("Username:").encode()
    assert r.cmd(b64(USER)) == b"+ " + b64("Password:").encode()
    assert r.cmd(b64(PASSWORD)).startswith(b"+OK Logged in")
    r.close()
    r = Raw(pop)
    assert r.cmd("AUTH LOGIN " + b64(USER)) == b"+ " + b64("Password:").encode()
    assert r.cmd(b64(PASSWORD)).startswith(b"+OK Logged in")
    r.close()
    # Cancel, garbage, unknown mechanism.
    r = Raw(pop)
    assert r.cmd("AUTH PLAIN") == b"+ "
    assert r.cmd("*").startswith(b"-ERR")
    assert r.cmd("AUTH PLAIN") == b"+ "
    assert r.cmd("!!!not base64!!!").startswith(b"-ERR [AUTH]")
    assert r.cmd("AUTH CRAM-MD5").startswith(b"-ERR")
    assert r.cmd("AUTH LOGIN") .startswith(b"+ ")
    assert r.cmd(b64("a" * 400)).startswith(b"-ERR [AUTH]")
    r.close()


# --- TLS ---

def tls_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def test_stls(pop):
    p = connect(pop)
    p.stls(tls_ctx())
    assert "STLS" not in p.capa()
    p.user(USER)
    p.pass_(PASSWORD)
    assert joined(p.retr(1)[1]) == MSG1
    p.quit()
    # STLS twice, and after login.
    r = Raw(pop)
    assert r.cmd("STLS").startswith(b"+OK")
    r.sock = tls_ctx().wrap_socket(r.sock)
    r.f = r.sock.makefile("rb")
    assert r.cmd("STLS").startswith(b"-ERR")
    r.cmd(f"USER {USER}")
    r.cmd(f"PASS {PASSWORD}")
    assert r.cmd("STLS").startswith(b"-ERR")


def test_implicit_tls(pop):
    p = poplib.POP3_SSL("127.0.0.1", pop.port("pop3", "listen_tls"), context=tls_ctx(),
                        timeout=10)
    assert "STLS" not in p.capa()
    p.user(USER)
    p.pass_(PASSWORD)
    assert p.stat()[0] == 3
    assert joined(p.retr(2)[1]) == MSG2
    p.quit()


def test_plaintext_refused_without_tls(hermod_factory):
    # Loopback is not trusted here: passwords need TLS first.
    h = hermod_factory({"pop3": {"loopback_secure": "no"}})
    h.add_user(USER, PASSWORD)
    p = connect(h)
    capa = p.capa()
    assert "USER" not in capa and "SASL" not in capa and "STLS" in capa
    with pytest.raises(poplib.error_proto) as e:
        p.user(USER)
    assert err(e).startswith(b"-ERR [AUTH]")
    r = Raw(h)
    assert r.cmd("AUTH PLAIN " + b64(f"\0{USER}\0{PASSWORD}")).startswith(b"-ERR [AUTH]")
    assert r.cmd("PASS x").startswith(b"-ERR")
    r.close()
    p.stls(tls_ctx())
    assert "USER" in p.capa()
    p.user(USER)
    p.pass_(PASSWORD)
    p.quit()
    # [auth] allow_plaintext lifts the rule.
    h2 = hermod_factory({"pop3": {"loopback_secure": "no"}, "auth": {"allow_plaintext": "yes"}})
    h2.add_user(USER, PASSWORD)
    p = connect(h2)
    p.user(USER)
    p.pass_(PASSWORD)
    p.quit()


# --- bad input ---

def test_wrong_state_unknown_and_bad_arguments(pop):
    r = Raw(pop)
    for c in ("STAT", "LIST", "RETR 1", "DELE 1", "RSET", "TOP 1 1", "UIDL", "NOOP"):
        assert r.cmd(c) == b"-ERR Command not valid in this state", c
    assert r.cmd("XYZZY") == b"-ERR Unknown command"
    assert r.cmd("LAST") == b"-ERR Unknown command"
    assert r.cmd("APOP alice 0123456789abcdef").startswith(b"-ERR")
    r.close()
    r = Raw(pop)
    r.cmd(f"USER {USER}")
    r.cmd(f"PASS {PASSWORD}")
    for c in ("USER x", "PASS x", "AUTH PLAIN", "STLS"):
        assert r.cmd(c) == b"-ERR Command not valid in this state", c
    assert r.cmd("NOOP") == b"+OK"
    bad = {
        "RETR 0": b"-ERR Invalid message number",
        "RETR 4": b"-ERR No such message",
        "RETR 4294967295": b"-ERR No such message",
        "RETR 4294967296": b"-ERR Invalid message number",
        "RETR -1": b"-ERR Invalid message number",
        "RETR one": b"-ERR Invalid message number",
        "RETR": b"-ERR Wrong number of arguments",
        "RETR 1 2": b"-ERR Wrong number of arguments",
        "LIST 1 2": b"-ERR Wrong number of arguments",
        "TOP 1": b"-ERR Wrong number of arguments",
        "TOP 1 x": b"-ERR Invalid number of lines",
        "TOP 1 -1": b"-ERR Invalid number of lines",
        "DELE 9": b"-ERR No such message",
        "UIDL 0": b"-ERR Invalid message number",
        "STAT 1": b"-ERR Wrong number of arguments",
        "RETR " + "1" * 41: b"-ERR Argument too long",
    }
    for c, want in bad.items():
        assert r.cmd(c) == want, c
        assert r.cmd("NOOP") == b"+OK"   # resets the count of invalid commands
    # The session is still fine.
    assert r.cmd("STAT").startswith(b"+OK 3 ")
    assert r.cmd("QUIT").startswith(b"+OK")


def test_line_limits(pop):
    r = Raw(pop)
    # Over [pop3] max_line but within what is buffered: refused, session
    # goes on.
    assert r.cmd("NOOP " + "x" * 3000) == b"-ERR Line too long"
    assert r.cmd(f"USER {USER}").startswith(b"+OK")
    assert r.cmd("\x00\x01") == b"-ERR Control character in command"
    assert r.cmd("") == b"-ERR Empty command"
    r.close()
    # An endless line: error, then the connection is closed.
    r = Raw(pop)
    r.send("A" * 100000)
    assert r.line() == b"-ERR Line too long, closing the connection"
    assert r.closed()


def test_too_many_bad_commands(pop):
    r = Raw(pop)
    for i in range(9):
        assert r.cmd(f"BOGUS{i}") == b"-ERR Unknown command"
    assert r.cmd("BOGUS") == b"-ERR Unknown command"
    assert r.line() == b"-ERR Too many invalid commands, closing the connection"
    assert r.closed()
    # A good command in between resets the count.
    r = Raw(pop)
    for i in range(30):
        assert r.cmd("BOGUS").startswith(b"-ERR")
        if i % 5 == 4:
            assert r.cmd("CAPA").startswith(b"+OK")
            r.multi()
    r.close()


def test_garbage_never_crashes(pop):
    import random
    rnd = random.Random(1939)
    for _ in range(20):
        r = Raw(pop)
        junk = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 3000)))
        try:
            r.send(junk + b"\r\nQUIT\r\n")
            r.f.read()
        except (ConnectionResetError, BrokenPipeError, socket.timeout):
            pass
        r.close()
    p = login(pop)
    assert p.stat()[0] == 3
    p.quit()


# --- concurrency and the snapshot ---

def test_concurrent_sessions_snapshot(pop):
    a, b = login(pop), login(pop)
    ids = [u.split()[1] for u in a.uidl()[1]]
    # New mail during the sessions is not in their maildrops.
    fill(pop, USER, MSG3)
    assert a.stat()[0] == 3 and b.stat()[0] == 3
    a.dele(1)
    a.quit()
    # b still serves message 1 from its snapshot, and deleting it again is
    # harmless.
    assert joined(b.retr(1)[1]) == MSG1
    b.dele(1)
    b.dele(2)
    assert b.quit().startswith(b"+OK")
    p = login(pop)
    left = [u.split()[1] for u in p.uidl()[1]]
    assert left[0] == ids[2] and len(left) == 2 and left[1] not in ids
    p.quit()


# --- EXPIRE and LOGIN-DELAY ---

def test_expire_zero(hermod_factory):
    h = hermod_factory({"pop3": {"expire": "0"}})
    h.add_user(USER, PASSWORD)
    fill(h, USER, MSG1, MSG2)
    p = login(h)
    assert p.capa()["EXPIRE"] == ["0"]
    p.retr(2)
    p.top(1, 0)     # TOP is not a retrieval
    p.quit()
    p = login(h)
    assert p.stat() == (1, len(MSG1))
    p.quit()


def test_expire_days_capa(hermod_factory):
    h = hermod_factory({"pop3": {"expire": "30"}})
    h.add_user(USER, PASSWORD)
    fill(h, USER, MSG1)
    p = login(h)
    assert p.capa()["EXPIRE"] == ["30"]
    p.retr(1)
    p.quit()
    p = login(h)          # retrieved, but not 30 days old: kept
    assert p.stat()[0] == 1
    p.quit()


def test_login_delay(hermod_factory):
    h = hermod_factory({"pop3": {"login_delay": "60"}})
    h.add_user(USER, PASSWORD)
    p = connect(h)
    assert p.capa()["LOGIN-DELAY"] == ["60"]
    p.user(USER)
    p.pass_(PASSWORD)
    p.quit()
    p = connect(h)
    p.user(USER)
    with pytest.raises(poplib.error_proto) as e:
        p.pass_(PASSWORD)
    assert err(e).startswith(b"-ERR [LOGIN-DELAY]")


def test_bad_expire_setting(hermod_factory):
    h = hermod_factory({"pop3": {"expire": "soon"}}, start=False)
    r = subprocess.run([os.path.join(BUILD, "src", "cmd", "hermod"), "-c", h.config_path,
                        "serve"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "expire" in r.stdout + r.stderr


def ntlm_server(hermod_factory, **pop3):
    h = hermod_factory({"pop3": {"ntlm": "yes", **pop3}})
    h.add_user(USER, PASSWORD, "--nt-hash")
    fill(h, USER, MSG1, MSG2, MSG3)
    return h


def test_ntlm_offered_when_enabled(hermod_factory):
    h = ntlm_server(hermod_factory)
    assert connect(h).capa()["SASL"] == ["PLAIN", "LOGIN", "NTLM"]
    r = Raw(h)
    assert r.cmd("AUTH").startswith(b"+OK")
    assert r.multi() == [b"PLAIN", b"LOGIN", b"NTLM"]
    r.close()
    # NTLM sends no password: it stays on offer before TLS.
    h2 = ntlm_server(hermod_factory, loopback_secure="no")
    capa = connect(h2).capa()
    assert "USER" not in capa and capa["SASL"] == ["NTLM"] and "STLS" in capa


def test_ntlm_refusals(hermod_factory):
    r = Raw(ntlm_server(hermod_factory))
    assert r.cmd("AUTH NTLM") == b"+ "
    assert r.cmd("*").startswith(b"-ERR")
    assert r.cmd("AUTH NTLM") == b"+ "
    assert r.cmd("!!!").startswith(b"-ERR [AUTH]")
    assert r.cmd("AUTH NTLM " + b64(b"NTLMSSP\0garbage")).startswith(b"-ERR [AUTH]")
    r.close()


def test_ntlm_off_by_default(pop):
    """NT hashes are opt-in (passwords are kept as yescrypt hashes only), and
    clients such as curl pick NTLM whenever it is offered: so it is offered
    only when [pop3] ntlm says so."""
    assert connect(pop).capa()["SASL"] == ["PLAIN", "LOGIN"]
    r = Raw(pop)
    assert r.cmd("AUTH NTLM").startswith(b"-ERR")
    r.close()
