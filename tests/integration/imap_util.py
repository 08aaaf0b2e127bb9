"""Helpers of the IMAP integration tests: a server with users, imaplib
clients, and a raw line client for exact protocol checks."""
import imaplib
import socket
import ssl
import time

import pytest

PASSWORD = "Secret-pass-1"


@pytest.fixture
def imap_server(hermod_factory):
    h = hermod_factory()
    h.add_user("alice@example.test", PASSWORD)
    h.add_user("bob@example.test", PASSWORD)
    return h


def connect(h, user="alice@example.test", password=PASSWORD):
    m = imaplib.IMAP4("127.0.0.1", h.port("imap"))
    if user is not None:
        m.login(user, password)
    return m


def message(subject="hello", body="body text\r\n", extra=""):
    return (f"From: Sender <sender@example.org>\r\nTo: alice@example.test\r\n"
            f"Subject: {subject}\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
            f"Message-ID: <{subject.replace(' ', '.')}@example.org>\r\n{extra}\r\n{body}").encode()


class Raw:
    """A line-level IMAP client over a plain socket."""

    def __init__(self, port, host="127.0.0.1", tls=False):
        self.sock = socket.create_connection((host, port), timeout=10)
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            self.sock = ctx.wrap_socket(self.sock)
        self.buf = b""
        self.greeting = self.line()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self, timeout=10):
        self.sock.settimeout(timeout)
        while b"\r\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise EOFError(self.buf)
            self.buf += d
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode(errors="replace")

    def read_exact(self, n):
        while len(self.buf) < n:
            d = self.sock.recv(65536)
            if not d:
                raise EOFError
            self.buf += d
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def cmd(self, text, tag=None):
        """Sends one command line; returns (untagged lines, tagged line)."""
        tag = tag or text.split(" ", 1)[0]
        self.send(text + "\r\n")
        return self.until(tag)

    def until(self, tag, timeout=10):
        lines = []
        while True:
            ln = self.line(timeout)
            if ln.startswith(tag + " "):
                return lines, ln
            lines.append(ln)

    def closed(self, timeout=5):
        """True if the server closed the connection (after any pending data)."""
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

    def close(self):
        self.sock.close()


def wait_for(pred, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()
