"""SMTP delivery seen through IMAP: a session in IDLE on the Inbox is woken
by the new-mail notification the transport publishes at its commit (not at
its next poll), only the recipient's sessions are woken, and what IMAP
FETCH serves is the delivered message byte for byte (the Received header
the MTA prepends, then the content as sent: DATA unstuffed, BDAT as is)."""
import re
import smtplib
import time

from imap_util import Raw as ImapRaw
from smtputil import Raw as SmtpRaw

PW = "Secret-pass-1"


def server(hermod_factory):
    h = hermod_factory()
    h.add_user("alice@example.test", PW)
    h.add_user("bob@example.test", PW)
    return h


def imap_login(h, user="alice@example.test"):
    r = ImapRaw(h.port("imap"))
    _, tagged = r.cmd(f"l1 LOGIN {user} {PW}")
    assert tagged.startswith("l1 OK"), tagged
    _, tagged = r.cmd("l2 SELECT INBOX")
    assert tagged.startswith("l2 OK"), tagged
    return r


def fetch_literal(r, tag, command):
    """Sends a FETCH whose reply carries one literal; returns its bytes."""
    r.send(f"{tag} {command}\r\n")
    while True:
        ln = r.line()
        m = re.search(r"\{(\d+)\}$", ln)
        if m:
            data = r.read_exact(int(m.group(1)))
            break
        assert not ln.startswith(tag + " "), ln
    _, tagged = r.until(tag)
    assert tagged.startswith(tag + " OK"), tagged
    return data


def test_idle_woken_by_smtp_delivery(hermod_factory):
    h = server(hermod_factory)
    a = imap_login(h, "alice@example.test")
    b = imap_login(h, "bob@example.test")
    for r in (a, b):
        r.send("i1 IDLE\r\n")
        assert r.line().startswith("+ ")
    s = smtplib.SMTP("127.0.0.1", h.port("smtp"), timeout=20)
    t0 = time.time()
    s.sendmail("carol@remote.test", ["alice@example.test"],
               b"From: carol@remote.test\r\nSubject: wake up\r\n\r\nnew mail\r\n")
    # 250 came after the commit; the notification is published at that
    # commit, so the EXISTS is on its way already.
    lines = []
    while "* 1 EXISTS" not in lines:
        lines.append(a.line(timeout=5))
    assert time.time() - t0 < 2.0, lines
    # Bob's session is not woken by Alice's mail.
    assert b.closed(timeout=0.5) is False and b.buf == b""
    # A second delivery while still idle: EXISTS 2.
    s.sendmail("carol@remote.test", ["alice@example.test"],
               b"From: carol@remote.test\r\nSubject: again\r\n\r\nmore\r\n")
    s.quit()
    lines = []
    while "* 2 EXISTS" not in lines:
        lines.append(a.line(timeout=5))
    for r in (a, b):
        r.send("DONE\r\n")
        _, tagged = r.until("i1")
        assert tagged.startswith("i1 OK"), tagged
    lines, tagged = a.cmd("f1 FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    text = "\n".join(lines)
    assert "Subject: wake up" in text and "Subject: again" in text
    assert text.count("\\Seen") == 0
    lines, _ = b.cmd("n1 NOOP")
    assert not any("EXISTS" in ln for ln in lines), lines
    a.close()
    b.close()


# Bytes an MTA must not touch: 8-bit UTF-8, a line of 998 octets, trailing
# white space, a folded header, lines that start with dots (stuffed on the
# wire by smtplib), a line holding a single dot, empty lines.
CONTENT = (b"From: Carol <carol@remote.test>\r\nTo: alice@example.test\r\n"
           b"Subject: =?utf-8?q?caf=C3=A9?=\r\n"
           b"X-Folded: one\r\n\ttwo  \r\n"
           b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
           b"Content-Transfer-Encoding: 8bit\r\n\r\n"
           + "caf\u00e9 \u2603 na\u00efve\r\n".encode() +
           b".leading dot\r\n..two dots\r\n.\r\n" + b"x" * 998 + b"\r\n"
           b"trailing spaces   \r\n\r\n\r\nend\r\n")


def test_smtp_delivery_fetched_byte_for_byte(hermod_factory):
    h = server(hermod_factory)
    # DATA through smtplib (dot-stuffed on the wire, unstuffed by hermod).
    s = smtplib.SMTP("127.0.0.1", h.port("smtp"), timeout=20)
    s.ehlo("client.test")
    s.sendmail("carol@remote.test", ["alice@example.test"], CONTENT,
               mail_options=["BODY=8BITMIME"])
    s.quit()
    # BDAT in two chunks: no stuffing at all, the dots arrive as sent.
    r = SmtpRaw(h.port("smtp"))
    assert r.reply()[0] == 220
    assert r.cmd("EHLO client.test")[0] == 250
    assert r.cmd("MAIL FROM:<carol@remote.test> BODY=8BITMIME")[0] == 250
    assert r.cmd("RCPT TO:<alice@example.test>")[0] == 250
    half = len(CONTENT) // 2
    r.send(b"BDAT %d\r\n" % half + CONTENT[:half])
    assert r.reply()[0] == 250
    r.send(b"BDAT %d LAST\r\n" % (len(CONTENT) - half) + CONTENT[half:])
    assert r.reply()[0] == 250
    assert r.cmd("QUIT")[0] == 221
    r.close()

    a = imap_login(h)
    for seq in (1, 2):
        full = fetch_literal(a, f"b{seq}", f"FETCH {seq} BODY.PEEK[]")
        # Exactly one Received header in front, then the content unchanged.
        assert full.endswith(CONTENT), full[:400]
        prefix = full[:len(full) - len(CONTENT)]
        assert prefix.startswith(b"Received: from client.test ([127.0.0.1])\r\n"), prefix
        assert prefix.endswith(b"\r\n") and prefix.count(b"Received:") == 1
        assert all(ln.startswith((b"Received:", b"\t")) for ln in prefix.split(b"\r\n")[:-1])
        lines, _ = a.cmd(f"s{seq} FETCH {seq} (RFC822.SIZE)")
        assert f"RFC822.SIZE {len(full)}" in lines[0], lines
        # The body section alone is the content's body, byte for byte.
        body = fetch_literal(a, f"t{seq}", f"FETCH {seq} BODY.PEEK[TEXT]")
        assert body == CONTENT.split(b"\r\n\r\n", 1)[1]
    a.close()
