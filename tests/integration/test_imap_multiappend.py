"""MULTIAPPEND (RFC 3502) all or nothing, with a raw client (imaplib has
no MULTIAPPEND): several messages with flags, dates and keywords in one
command with APPENDUID ranges; a failure on a later message (over the
quota) stores none of them; checks before anything is stored (a bad
message, a missing mailbox). Also IDLE woken by an SMTP delivery."""
import imaplib
import smtplib
import time

import pytest

from imap_util import PASSWORD, Raw, connect, message


@pytest.fixture
def server(hermod_factory):
    h = hermod_factory()
    h.add_user("alice@example.test", PASSWORD)
    h.add_user("carol@example.test", PASSWORD, "--quota", "100k")
    return h


def login(h, user="alice@example.test"):
    r = Raw(h.port("imap"))
    assert r.cmd(f"a0 LOGIN {user} {PASSWORD}")[1].startswith("a0 OK")
    return r


def multiappend(r, tag, box, parts):
    """parts: [(flags or None, date or None, bytes)], sent with LITERAL+."""
    cmd = f"{tag} APPEND {box}".encode()
    for flags, date, raw in parts:
        if flags is not None:
            cmd += b" (" + flags.encode() + b")"
        if date is not None:
            cmd += b' "' + date.encode() + b'"'
        cmd += b" {%d+}\r\n" % len(raw) + raw
    r.send(cmd + b"\r\n")
    return r.until(tag)


def test_multiappend(server):
    r = login(server)
    parts = [("\\Seen", "01-Feb-2024 10:00:00 +0000", message("one")),
             ("\\Flagged $Work", None, message("two")),
             (None, "03-Feb-2024 12:30:00 +0100", message("three"))]
    lines, tagged = multiappend(r, "a1", "INBOX", parts)
    assert tagged.startswith("a1 OK [APPENDUID "), tagged
    uidvalidity, uidset = tagged.split("[APPENDUID ")[1].split("]")[0].split()
    assert uidset == "1:3"
    m = connect(server)
    m.select("INBOX")
    typ, data = m.fetch("1:3", "(UID FLAGS INTERNALDATE BODY.PEEK[])")
    got = [d for d in data if isinstance(d, tuple)]
    assert [g[1] for g in got] == [p[2] for p in parts]
    assert b"\\Seen" in got[0][0] and b"01-Feb-2024 10:00:00 +0000" in got[0][0]
    assert b"\\Flagged" in got[1][0] and b"$Work" in got[1][0]
    assert b"03-Feb-2024 11:30:00 +0000" in got[2][0]
    m.logout()
    # A single APPEND still works and continues the UIDs.
    lines, tagged = multiappend(r, "a2", "INBOX", [(None, None, message("four"))])
    assert "[APPENDUID %s 4]" % uidvalidity in tagged
    r.close()


def test_multiappend_all_or_nothing(server):
    # carol has 100 KiB; each message counts about twice its 30 KB.
    r = login(server, "carol@example.test")
    big = message("big", body=("y" * 72 + "\r\n") * 400)
    lines, tagged = multiappend(r, "a1", "INBOX", [(None, None, big)] * 3)
    assert tagged.startswith("a1 NO [OVERQUOTA]"), tagged
    # None of the three was kept, not even the first that fitted.
    lines, tagged = r.cmd('a2 STATUS INBOX (MESSAGES UIDNEXT)')
    assert lines[0].endswith("(MESSAGES 0 UIDNEXT 1)"), lines
    # A selected session sees nothing come and go.
    lines, tagged = r.cmd("a3 SELECT INBOX")
    assert "* 0 EXISTS" in lines
    lines, tagged = multiappend(r, "a4", "INBOX", [(None, None, big)] * 2 + [(None, None, big)])
    assert tagged.startswith("a4 NO [OVERQUOTA]")
    lines, tagged = r.cmd("a5 NOOP")
    assert not any("EXISTS" in ln for ln in lines), lines
    # What fits is stored, all of it.
    lines, tagged = multiappend(r, "a6", "INBOX", [(None, None, message("s1")),
                                                    (None, None, message("s2"))])
    assert tagged.startswith("a6 OK [APPENDUID "), tagged
    assert "* 2 EXISTS" in lines
    r.close()


def test_multiappend_checked_first(server):
    r = login(server)
    # An empty message, the second of three: nothing is stored.
    lines, tagged = multiappend(r, "a1", "INBOX", [(None, None, message("x")), (None, None, b""),
                                                   (None, None, message("y"))])
    assert tagged.startswith("a1 NO")
    # A bad flag list or date in the middle: BAD, nothing stored.
    lines, tagged = multiappend(r, "a2", "INBOX", [(None, None, message("x")),
                                                   (None, "not a date at all, no", message("y"))])
    assert tagged.startswith("a2 BAD")
    lines, tagged = multiappend(r, "a3", "Nonexistent", [(None, None, message("x"))] * 2)
    assert tagged.startswith("a3 NO [TRYCREATE]")
    lines, tagged = r.cmd("a4 STATUS INBOX (MESSAGES)")
    assert lines[0].endswith("(MESSAGES 0)")
    r.close()


def test_idle_woken_by_smtp_delivery(server):
    m = connect(server)
    m.select("INBOX")
    tag = m._new_tag().decode()
    m.send(f"{tag} IDLE\r\n".encode())
    assert m.readline().startswith(b"+")
    t0 = time.time()
    s = smtplib.SMTP("127.0.0.1", server.port("smtp"), timeout=20)
    s.sendmail("carol@remote.test", ["alice@example.test"], message("by smtp"))
    s.quit()
    m.sock.settimeout(5)
    line = m.readline()
    assert line.startswith(b"* 1 EXISTS"), line
    assert time.time() - t0 < 3
    m.send(b"DONE\r\n")
    while not m.readline().startswith(tag.encode()):
        pass
    typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert b"Subject: by smtp" in data[0][1]
    m.logout()
