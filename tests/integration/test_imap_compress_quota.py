"""COMPRESS=DEFLATE (RFC 4978) with imaplib under a deflating transport,
over plain TCP and IMAPS: literals both ways byte for byte, IDLE woken
while compressed, a compression bomb and corrupt input. QUOTA (RFC 9208):
GETQUOTAROOT, GETQUOTA, SETQUOTA refused, STATUS DELETED-STORAGE, APPEND
over quota. APPENDLIMIT (RFC 7889): capability, STATUS, TOOBIG."""
import base64
import imaplib
import os
import socket
import ssl
import time
import zlib

import pytest

from imap_util import PASSWORD, Raw, connect, imap_server, message  # noqa: F401

# imaplib checks command names against its table.
imaplib.Commands.setdefault("COMPRESS", ("AUTH", "SELECTED"))


class Deflating:
    """imaplib with RFC 4978 compression once compress() succeeded."""

    _zo = _zi = None
    _zbuf = b""

    def compress(self):
        typ, data = self._simple_command("COMPRESS", "DEFLATE")
        if typ == "OK":
            self._zo = zlib.compressobj(6, zlib.DEFLATED, -15)
            self._zi = zlib.decompressobj(-15)
        return typ, data

    def send(self, data):
        if self._zo is not None:
            data = self._zo.compress(data) + self._zo.flush(zlib.Z_SYNC_FLUSH)
        super().send(data)

    def _zfill(self):
        raw = self.file.read1(65536)
        if not raw:
            raise EOFError("server closed")
        self._zbuf += self._zi.decompress(raw)

    def read(self, size):
        if self._zi is None:
            return super().read(size)
        while len(self._zbuf) < size:
            self._zfill()
        data, self._zbuf = self._zbuf[:size], self._zbuf[size:]
        return data

    def readline(self):
        if self._zi is None:
            return super().readline()
        while b"\n" not in self._zbuf:
            self._zfill()
        i = self._zbuf.index(b"\n") + 1
        line, self._zbuf = self._zbuf[:i], self._zbuf[i:]
        return line


class IMAP4Z(Deflating, imaplib.IMAP4):
    pass


class IMAP4ZSSL(Deflating, imaplib.IMAP4_SSL):
    pass


def zconnect(h, tls=False):
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        m = IMAP4ZSSL("127.0.0.1", h.port("imap", "listen_tls"), ssl_context=ctx)
    else:
        m = IMAP4Z("127.0.0.1", h.port("imap"))
    m.login("alice@example.test", PASSWORD)
    return m


def big_message(n):
    # Half compressible text, half random (base64 lines of random bytes).
    b64 = base64.encodebytes(os.urandom(n // 3)).replace(b"\n", b"\r\n")
    text = (b"All work and no play makes Jack a dull boy.\r\n" * (n // 90))
    return (b"From: a@example.org\r\nTo: alice@example.test\r\nSubject: big\r\n"
            b"Content-Type: text/plain\r\n\r\n" + text + b64)


@pytest.mark.parametrize("tls", [False, True])
def test_compress_with_imaplib(imap_server, tls):
    m = zconnect(imap_server, tls)
    caps = m.capability()[1][0].split()
    assert b"COMPRESS=DEFLATE" in caps
    typ, data = m.compress()
    assert typ == "OK" and b"DEFLATE active" in data[0]
    # Everything from here on is deflated both ways.
    assert m.select("INBOX")[0] == "OK"
    msg = big_message(3 << 20)
    typ, data = m.append("INBOX", None, None, msg)
    assert typ == "OK", data
    typ, data = m.fetch("1", "(RFC822.SIZE BODY.PEEK[])")
    assert typ == "OK"
    assert data[0][1] == msg
    assert b"RFC822.SIZE %d" % len(msg) in data[0][0]
    typ, data = m.search(None, "SUBJECT", "big")
    assert data[0] == b"1"
    # Once only.
    typ, data = m._simple_command("COMPRESS", "DEFLATE")
    assert typ == "NO" and b"[COMPRESSIONACTIVE]" in data[0]
    assert m.noop()[0] == "OK"
    m.logout()


def test_compress_bad_input(imap_server):
    r = Raw(imap_server.port("imap"))
    assert r.cmd("a1 COMPRESS DEFLATE")[1].startswith("a1 BAD")  # before login
    r.cmd(f"a2 LOGIN alice@example.test {PASSWORD}")
    assert r.cmd("a3 COMPRESS")[1].startswith("a3 BAD")
    assert r.cmd("a4 COMPRESS GZIP")[1].startswith("a4 BAD")
    assert r.cmd("a5 COMPRESS DEFLATE DEFLATE")[1].startswith("a5 BAD")
    # Compressed input pipelined right after the command is inflated.
    zo = zlib.compressobj(6, zlib.DEFLATED, -15)
    zi = zlib.decompressobj(-15)
    r.send(b"a6 COMPRESS DEFLATE\r\n" + zo.compress(b"a7 NOOP\r\n") + zo.flush(zlib.Z_SYNC_FLUSH))
    assert r.line() == "a6 OK DEFLATE active"
    out = zi.decompress(r.buf)
    r.buf = b""
    while b"a7 " not in out:
        out += zi.decompress(r.sock.recv(65536))
    assert b"a7 OK" in out
    # A compression bomb: 64 MiB of "a" without a line end inflate past
    # max_line; the connection is closed, not grown.
    chunk = zo.compress(b"a" * (1 << 20))
    try:
        for _ in range(64):
            r.send(chunk)
        r.send(zo.flush(zlib.Z_SYNC_FLUSH))
    except (BrokenPipeError, ConnectionResetError):
        pass
    got = b""
    r.sock.settimeout(10)
    try:
        while True:
            d = r.sock.recv(65536)
            if not d:
                break
            got += d
    except (ConnectionResetError, socket.timeout):
        pass
    try:
        text = zi.decompress(got)
    except zlib.error:
        text = b""
    assert b"BYE" in text or got == b""
    r.close()
    # Corrupt compressed input closes the connection.
    r = Raw(imap_server.port("imap"))
    r.cmd(f"b1 LOGIN alice@example.test {PASSWORD}")
    assert r.cmd("b2 COMPRESS DEFLATE")[1] == "b2 OK DEFLATE active"
    r.send(b"\xff\xff\xff\xff\xff\xff\xff\xff")
    assert r.closed()


def test_compressed_idle_is_woken(imap_server):
    m = zconnect(imap_server)
    assert m.compress()[0] == "OK"
    m.select("INBOX")
    tag = m._new_tag().decode()
    m.send(f"{tag} IDLE\r\n".encode())
    assert m.readline().startswith(b"+")
    other = connect(imap_server)
    t0 = time.time()
    other.append("INBOX", None, None, message("wake"))
    line = m.readline()
    assert line.startswith(b"* 1 EXISTS"), line
    assert time.time() - t0 < 2
    m.send(b"DONE\r\n")
    while True:
        line = m.readline()
        if line.startswith(tag.encode()):
            assert b"OK" in line
            break
    other.logout()
    m.logout()


@pytest.fixture
def quota_server(hermod_factory):
    h = hermod_factory()
    h.add_user("alice@example.test", PASSWORD, "--quota", "100k")
    h.add_user("bob@example.test", PASSWORD)
    return h


def quota_of(m, root=""):
    typ, data = m._simple_command("GETQUOTA", f'"{root}"')
    return typ, m._untagged_response(typ, data, "QUOTA")[1]


def test_quota(quota_server):
    m = connect(quota_server)
    assert b"QUOTA" in m.capability()[1][0].split()
    typ, data = m.getquotaroot("INBOX")
    assert typ == "OK"
    assert data[0] == [b'"INBOX" ""']
    assert data[1] == [b'"" (STORAGE 0 100)']
    body = "x" * 70 + "\r\n"
    msg = message("q1", body=body * 400)  # about 29 KiB
    assert m.append("INBOX", None, None, msg)[0] == "OK"
    typ, data = m.getquotaroot("INBOX")
    # The store's size of the message: its MIME and the properties made
    # from it.
    used = int(data[1][0].split()[2])
    assert 28 <= used <= 90, data
    typ, data = m.getquota('""')
    assert typ == "OK" and data == [b'"" (STORAGE %d 100)' % used]
    # Other folders share the root.
    m.create("Sub")
    typ, data = m.getquotaroot("Sub")
    assert data[0] == [b'"Sub" ""']
    # Unknown roots and mailboxes; SETQUOTA is the administrator's.
    typ, data = m.getquota('"other"')
    assert typ == "NO"
    typ, data = m.getquotaroot("Nonexistent")
    assert typ == "NO"
    typ, data = m.setquota('""', "(STORAGE 1000)")
    assert typ == "NO"
    with pytest.raises(imaplib.IMAP4.error):
        m._simple_command("GETQUOTA")
    with pytest.raises(imaplib.IMAP4.error):
        m._simple_command("SETQUOTA", '""')
    # DELETED-STORAGE: what an EXPUNGE would free.
    m.select("INBOX")
    typ, data = m.status("INBOX", "(DELETED DELETED-STORAGE)")
    assert data[0].endswith(b"(DELETED 0 DELETED-STORAGE 0)")
    m.store("1", "+FLAGS", "\\Deleted")
    typ, data = m.status("INBOX", "(DELETED DELETED-STORAGE)")
    assert data[0].endswith(b"(DELETED 1 DELETED-STORAGE %d)" % used)
    m.store("1", "-FLAGS", "\\Deleted")
    # Over the quota: APPEND and COPY are refused with OVERQUOTA.
    refused = False
    for i in range(5):
        typ, data = m.append("INBOX", None, None, message(f"more{i}", body=body * 400))
        if typ == "NO":
            assert b"[OVERQUOTA]" in data[0]
            refused = True
            break
    assert refused
    typ, data = m.copy("1", "Sub")
    assert typ == "NO" and b"[OVERQUOTA]" in data[0]
    m.logout()
    # Without a quota there is no quota root.
    b = connect(quota_server, "bob@example.test")
    typ, data = b.getquotaroot("INBOX")
    assert typ == "OK" and data[0] == [b'"INBOX"'] and data[1] == [None]
    assert b.getquota('""')[0] == "NO"
    b.logout()


def test_appendlimit(hermod_factory):
    h = hermod_factory({"imap": {"max_append": "100k"}})
    h.add_user("alice@example.test", PASSWORD)
    m = connect(h)
    caps = m.capability()[1][0].split()
    assert b"APPENDLIMIT=102400" in caps
    typ, data = m.status("INBOX", "(APPENDLIMIT)")
    assert data[0].endswith(b"(APPENDLIMIT 102400)")
    # At the limit is fine.
    msg = message("fits")
    msg += b"y" * (102400 - len(msg))
    assert m.append("INBOX", None, None, msg)[0] == "OK"
    m.logout()
    # One more octet: refused before the literal is sent.
    r = Raw(h.port("imap"))
    r.cmd(f"a1 LOGIN alice@example.test {PASSWORD}")
    r.send("a2 APPEND INBOX {102401}\r\n")
    assert r.line().startswith("a2 NO [TOOBIG]")
    # LITERAL+ over the limit cannot be refused unsent: the connection
    # is closed.
    r.send("a3 APPEND INBOX {102401+}\r\n")
    assert r.line().startswith("* BYE")
    assert r.closed()
