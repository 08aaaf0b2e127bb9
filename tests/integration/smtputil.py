"""Helpers for the SMTP and transport tests: a raw SMTP conversation over a
socket (for what smtplib will not send: bare LF, NUL, pipelining, slow
bytes), a look into a mailbox's messages, and an aiosmtpd sink.

mailbox_messages reads the mailbox database read-only with the schema of
src/store/db.c (folders.special, messages.mime -> blobs/ab/cd/<sha256>); it
looks at what the store holds without going through a protocol (test_smtp_imap.py
looks through IMAP).
"""
import os
import re
import socket
import sqlite3
import ssl
import threading
import time

INBOX = 4        # enum store_special: STORE_SPECIAL_INBOX
OUTBOX = 5
SENT_ITEMS = 6


class Raw:
    """A line-oriented SMTP client that sends exactly the bytes given."""

    def __init__(self, port, host="127.0.0.1", timeout=10, tls=False):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            self.sock = ctx.wrap_socket(self.sock)
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; got %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def reply(self):
        """(code, [lines]) of one possibly multi-line reply."""
        lines = []
        while True:
            ln = self.line()
            lines.append(ln)
            if len(ln) < 4 or ln[3] != "-":
                return int(ln[:3]), lines

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.reply()

    def closed(self, timeout=5):
        """True when the server closes the connection within timeout."""
        self.sock.settimeout(timeout)
        try:
            while True:
                d = self.sock.recv(65536)
                if not d:
                    return True
                self.buf += d
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False
        except OSError:
            return True

    def starttls(self):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.sock = ctx.wrap_socket(self.sock)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def user_guid(h, address):
    out = h.cli("user", "show", address).stdout
    return re.search(r"mailbox guid:\s+(\S+)", out).group(1)


def mailbox_messages(h, address, special=INBOX):
    """[(mid, mime_bytes, delivery_time, flags)] of the folder, oldest first."""
    path = os.path.join(h.data_dir, "mailboxes", user_guid(h, address) + ".db")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        fid = db.execute("SELECT fid FROM folders WHERE special = ?", (special,)).fetchone()[0]
        rows = db.execute("SELECT mid, mime, delivery_time, flags FROM messages"
                          " WHERE fid = ? AND top = id ORDER BY id", (fid,)).fetchall()
    finally:
        db.close()
    out = []
    for mid, mime, dt, flags in rows:
        data = None
        if mime is not None:
            sha = bytes(mime).hex()
            with open(os.path.join(h.data_dir, "blobs", sha[:2], sha[2:4], sha), "rb") as f:
                data = f.read()
        out.append((mid, data, dt, flags))
    return out


def mailbox_columns(h, address, columns, special=INBOX):
    """Rows of the given messages columns (the store's indexed properties:
    subject, sender_name, msg_class, has_attach...) in a folder."""
    path = os.path.join(h.data_dir, "mailboxes", user_guid(h, address) + ".db")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        fid = db.execute("SELECT fid FROM folders WHERE special = ?", (special,)).fetchone()[0]
        return db.execute(f"SELECT {columns} FROM messages WHERE fid = ? AND top = id"
                          " ORDER BY id", (fid,)).fetchall()
    finally:
        db.close()


def wait_for(pred, timeout=20, interval=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return pred()


class Sink:
    """An aiosmtpd SMTP server on loopback that keeps what it receives:
    messages is a list of dicts (mail_from, rcpts, data, mail_options,
    rcpt_options, tls, auth). fail_rcpt maps an address to the reply its
    RCPT gets; fail_data holds replies for the next DATA commands."""

    def __init__(self, tls_dir=None, auth=None, host="127.0.0.1", port=None):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult
        self.messages = []
        self.fail_rcpt = {}
        self.fail_data = []
        self.auth_seen = []
        self.lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                bad = sink.fail_rcpt.get(address)
                if bad:
                    return bad
                envelope.rcpt_tos.append(address)
                envelope.rcpt_options.append(rcpt_options)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                with sink.lock:
                    if sink.fail_data:
                        return sink.fail_data.pop(0)
                    sink.messages.append({
                        "mail_from": envelope.mail_from,
                        "rcpts": list(envelope.rcpt_tos),
                        "data": envelope.original_content,
                        "mail_options": list(envelope.mail_options),
                        "rcpt_options": list(envelope.rcpt_options),
                        "tls": session.ssl is not None,
                        "auth": getattr(session, "auth_data", None) or session.login_data,
                    })
                return "250 2.0.0 OK sink"

        kwargs = {"enable_SMTPUTF8": True}
        if tls_dir is not None:
            cert, key = os.path.join(tls_dir, "sink.pem"), os.path.join(tls_dir, "sink.key")
            import subprocess
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                            "-days", "1", "-subj", "/CN=sink.test"], check=True,
                           capture_output=True)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
            kwargs["tls_context"] = ctx
        if auth is not None:
            def authenticator(server, session, envelope, mechanism, data):
                sink.auth_seen.append((mechanism, data.login, data.password))
                ok = (data.login, data.password) == (auth[0].encode(), auth[1].encode())
                return AuthResult(success=ok, auth_data=data.login if ok else None)
            kwargs["authenticator"] = authenticator
            kwargs["auth_require_tls"] = False
        port = port or _free_port()
        self.controller = Controller(Handler(), hostname=host, port=port, **kwargs)
        self.controller.start()
        self.port = port

    def stop(self):
        self.controller.stop()


class Dns:
    """A tiny authoritative DNS server on loopback (UDP) answering from a
    table: {("name", "MX"): [(pref, "host")], ("name", "A"): ["127.0.0.1"]};
    names in nxdomain get NXDOMAIN, anything else an empty answer."""

    def __init__(self, records, nxdomain=()):
        import dns.message
        import dns.rcode
        import dns.rdatatype
        import dns.rrset
        self.records = records
        self.nxdomain = set(nxdomain)
        self.queries = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stopped = False

        def serve():
            while not self.stopped:
                try:
                    self.sock.settimeout(0.2)
                    data, addr = self.sock.recvfrom(4096)
                except socket.timeout:
                    continue
                except OSError:
                    return
                q = dns.message.from_wire(data)
                r = dns.message.make_response(q)
                qn = q.question[0]
                name = qn.name.to_text().rstrip(".").lower()
                qtype = dns.rdatatype.to_text(qn.rdtype)
                self.queries.append((name, qtype))
                if name in self.nxdomain:
                    r.set_rcode(dns.rcode.NXDOMAIN)
                else:
                    vals = self.records.get((name, qtype), [])
                    if vals:
                        texts = [f"{p} {h}." if qtype == "MX" else v
                                 for v in vals for (p, h) in [v if qtype == "MX" else (0, 0)]]
                        r.answer.append(dns.rrset.from_text(qn.name, 60, "IN", qtype, *texts))
                self.sock.sendto(r.to_wire(), addr)

        self.thread = threading.Thread(target=serve, daemon=True)
        self.thread.start()

    def stop(self):
        self.stopped = True
        self.thread.join(2)
        self.sock.close()


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def free_port_v4_v6():
    """A TCP port free on both 127.0.0.1 and ::1."""
    while True:
        p = _free_port()
        s = socket.socket(socket.AF_INET6)
        try:
            s.bind(("::1", p))
            return p
        except OSError:
            continue
        finally:
            s.close()
