"""SEARCH, SORT and THREAD with charsets (RFC 3501 6.4.4) with imaplib:
keys in UTF-8 and ISO-8859-1 (sent as literals), matched case-insensitively
against header values with RFC 2047 words decoded and bodies with their
transfer encoding and charset undone; parts that are not text are not
searched; an unknown charset is [BADCHARSET]."""
import base64

import pytest

from imap_util import connect, imap_server  # noqa: F401

LATIN1 = (b"From: =?ISO-8859-1?Q?J=F6rg_M=FCller?= <joerg@example.org>\r\n"
          b"To: alice@example.test\r\n"
          b"Subject: =?iso-8859-1?q?Gr=FC=DFe_aus_K=F6ln?=\r\n"
          b"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
          b"MIME-Version: 1.0\r\n"
          b"Content-Type: text/plain; charset=iso-8859-1\r\n"
          b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
          b"Sch=F6ne Gr=FC=DFe vom Rhein.\r\n")

GREEK_BODY = "Ελληνικό κείμενο με τόνους.\r\n".encode()
GREEK = (b"From: Nikos <nikos@example.gr>\r\n"
         b"To: alice@example.test\r\n"
         b"Subject: " + "Καλημέρα".encode() + b"\r\n"
         b"Date: Tue, 2 Jan 2024 10:00:00 +0000\r\n"
         b"MIME-Version: 1.0\r\n"
         b"Content-Type: text/plain; charset=utf-8\r\n"
         b"Content-Transfer-Encoding: base64\r\n\r\n"
         + base64.encodebytes(GREEK_BODY).replace(b"\n", b"\r\n"))

ATTACH = (b"From: plain@example.org\r\n"
          b"To: alice@example.test\r\n"
          b"Subject: attachment\r\n"
          b"Date: Wed, 3 Jan 2024 10:00:00 +0000\r\n"
          b"MIME-Version: 1.0\r\n"
          b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
          b"--b\r\nContent-Type: text/plain\r\n\r\nJust plain words.\r\n"
          b"--b\r\nContent-Type: application/octet-stream\r\n"
          b"Content-Transfer-Encoding: base64\r\n\r\n"
          + base64.encodebytes(b"secret attachment bytes") +
          b"--b--\r\n")


@pytest.fixture
def box(imap_server):
    m = connect(imap_server)
    for raw in (LATIN1, GREEK, ATTACH):
        assert m.append("INBOX", None, None, raw)[0] == "OK"
    m.select("INBOX")
    yield m
    m.logout()


def search(m, charset, *crit, literal):
    """SEARCH with the last key's string sent as a literal (raw bytes)."""
    m.literal = literal
    typ, data = m.search(charset, *crit)
    assert typ == "OK", data
    return [int(x) for x in (data[0] or b"").split()]


def test_utf8_and_latin1_keys(box):
    m = box
    # Decoded QP in ISO-8859-1; ß matches SS, case ignored.
    assert search(m, "UTF-8", "BODY", literal="SCHÖNE GRÜSSE".encode()) == [1]
    assert search(m, "ISO-8859-1", "BODY", literal="grüße vom".encode("latin-1")) == [1]
    # The same string in the subject (RFC 2047, ISO-8859-1).
    assert search(m, "ISO-8859-1", "SUBJECT", literal="K\xd6LN".encode("latin-1")) == [1]
    assert search(m, "UTF-8", "BODY", literal="köln".encode()) == []
    assert search(m, "UTF-8", "TEXT", literal="köln".encode()) == [1]
    # An encoded display name.
    assert search(m, "UTF-8", "FROM", literal="jörg müller".encode()) == [1]
    assert search(m, "UTF-8", "HEADER", "From", literal="MÜLLER".encode()) == [1]
    # Base64 UTF-8 Greek, upper case with accents against lower case.
    assert search(m, "UTF-8", "BODY", literal="ΚΕΊΜΕΝΟ".encode()) == [2]
    # A raw 8-bit UTF-8 subject.
    assert search(m, "UTF-8", "SUBJECT", literal="καλημέρα".encode()) == [2]
    # ISO-8859-7 keys are converted to UTF-8 first.
    assert search(m, "ISO-8859-7", "TEXT", literal="Ελληνικό".encode("iso-8859-7")) == [2]
    # Text parts only.
    assert search(m, "UTF-8", "BODY", literal=b"plain words") == [3]
    assert search(m, "UTF-8", "TEXT", literal=b"secret attachment") == []
    # Several keys, one of them a charset string.
    assert search(m, "UTF-8", "FROM", "nikos", "BODY", literal="τόνους".encode()) == [2]
    assert search(m, "UTF-8", "NOT", "BODY", literal="τόνους".encode()) == [1, 3]


def test_charset_errors_and_defaults(box):
    m = box
    typ, data = m.search("X-NO-SUCH-CHARSET", "BODY", "x")
    assert typ == "NO" and b"[BADCHARSET (" in data[0] and b"UTF-8" in data[0]
    # No CHARSET: UTF-8 (US-ASCII is a subset).
    typ, data = m.search(None, "BODY", "PLAIN")
    assert data[0] == b"3"
    m.literal = "GRÜSSE".encode()
    typ, data = m.search(None, "BODY")
    assert data[0] == b"1"


def test_sort_and_thread_with_charset(box):
    m = box
    m.literal = "grüße".encode("latin-1")
    typ, data = m.sort("(DATE)", "ISO-8859-1", "TEXT")
    assert typ == "OK" and data[0] == b"1"
    m.literal = "ΚΑΛΗΜΈΡΑ".encode("iso-8859-7")
    typ, data = m.thread("REFERENCES", "ISO-8859-7", "SUBJECT")
    assert typ == "OK" and data[0] == b"(2)"
    typ, data = m._simple_command("SORT", "(DATE)", "X-NO-SUCH-CHARSET", "ALL")
    assert typ == "NO" and b"BADCHARSET" in data[0]
