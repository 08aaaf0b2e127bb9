"""IMAP with Python's imaplib and a raw client: greeting, capabilities,
authentication (LOGIN, AUTHENTICATE PLAIN and LOGIN, SASL-IR, STARTTLS,
IMAPS, LOGINDISABLED, delegate logons), the mailbox list, SELECT, FETCH
byte for byte, STORE, SEARCH, COPY/MOVE with UIDPLUS, EXPUNGE, and bad
input."""
import base64
import imaplib
import re
import ssl

import pytest

from imap_util import PASSWORD, Raw, connect, imap_server, message  # noqa: F401


def test_greeting_and_capabilities(imap_server):
    r = Raw(imap_server.port("imap"))
    assert r.greeting.startswith("* OK [CAPABILITY IMAP4rev1 ")
    assert "STARTTLS" in r.greeting and "AUTH=PLAIN" in r.greeting
    lines, tagged = r.cmd("a1 CAPABILITY")
    assert tagged == "a1 OK CAPABILITY completed"
    assert lines[0].startswith("* CAPABILITY IMAP4rev1")
    lines, tagged = r.cmd("a2 NOOP")
    assert tagged.startswith("a2 OK")
    lines, tagged = r.cmd("a3 LOGOUT")
    assert lines == ["* BYE Logging out"] and tagged.startswith("a3 OK")
    assert r.closed()


def test_login_and_failures(imap_server):
    m = connect(imap_server, None)
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        m.login("alice@example.test", "wrong")
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        m.login("nobody@example.test", PASSWORD)
    typ, data = m.login("alice@example.test", PASSWORD)
    assert typ == "OK" and b"IDLE" in data[0]
    # Commands of the wrong state.
    r = Raw(imap_server.port("imap"))
    assert r.cmd("b1 SELECT INBOX")[1].startswith("b1 BAD")
    assert r.cmd("b2 FETCH 1 FLAGS")[1].startswith("b2 BAD")
    r.cmd(f"b3 LOGIN alice@example.test {PASSWORD}")
    assert r.cmd("b4 FETCH 1 FLAGS")[1].startswith("b4 BAD")
    assert r.cmd(f"b5 LOGIN alice@example.test {PASSWORD}")[1].startswith("b5 BAD")
    m.logout()


def test_authenticate_plain_login_and_sasl_ir(imap_server):
    r = Raw(imap_server.port("imap"))
    r.send("a1 AUTHENTICATE PLAIN\r\n")
    assert r.line() == "+ "
    r.send(base64.b64encode(f"\0alice@example.test\0{PASSWORD}".encode()) + b"\r\n")
    lines, tagged = r.until("a1")
    assert tagged.startswith("a1 OK [CAPABILITY"), tagged
    r.close()
    # SASL-IR
    r = Raw(imap_server.port("imap"))
    ir = base64.b64encode(f"\0alice@example.test\0{PASSWORD}".encode()).decode()
    assert r.cmd(f"a2 AUTHENTICATE PLAIN {ir}")[1].startswith("a2 OK")
    r.close()
    # LOGIN mechanism with its two prompts.
    r = Raw(imap_server.port("imap"))
    r.send("a3 AUTHENTICATE LOGIN\r\n")
    assert r.line() == "+ VXNlcm5hbWU6"
    r.send(base64.b64encode(b"alice@example.test") + b"\r\n")
    assert r.line() == "+ UGFzc3dvcmQ6"
    r.send(base64.b64encode(PASSWORD.encode()) + b"\r\n")
    assert r.until("a3")[1].startswith("a3 OK")
    r.close()
    # Cancel and garbage.
    r = Raw(imap_server.port("imap"))
    r.send("a4 AUTHENTICATE PLAIN\r\n")
    r.line()
    r.send("*\r\n")
    assert r.until("a4")[1].startswith("a4 BAD")
    r.send("a5 AUTHENTICATE PLAIN\r\n")
    r.line()
    r.send("!!!notbase64\r\n")
    assert r.until("a5")[1].startswith("a5 BAD")
    bad = base64.b64encode(b"\0alice@example.test\0wrong").decode()
    assert "AUTHENTICATIONFAILED" in r.cmd(f"a6 AUTHENTICATE PLAIN {bad}")[1]
    assert r.cmd("a7 AUTHENTICATE GSSAPI")[1].startswith("a7 NO")
    # imaplib's own AUTHENTICATE
    m = connect(imap_server, None)
    typ, _ = m.authenticate("PLAIN", lambda _: f"\0alice@example.test\0{PASSWORD}".encode())
    assert typ == "OK"
    m.logout()


def test_plaintext_refused_before_starttls(hermod_factory):
    h = hermod_factory(overrides={"imap": {"loopback_secure": "no"}})
    h.add_user("alice@example.test", PASSWORD)
    r = Raw(h.port("imap"))
    assert "LOGINDISABLED" in r.greeting and "AUTH=PLAIN" not in r.greeting
    tagged = r.cmd(f"a1 LOGIN alice@example.test {PASSWORD}")[1]
    assert tagged.startswith("a1 NO [PRIVACYREQUIRED]")
    r.close()
    m = imaplib.IMAP4("127.0.0.1", h.port("imap"))
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    m.starttls(ctx)
    assert "AUTH=PLAIN" in m.capabilities and "STARTTLS" not in m.capabilities
    assert m.login("alice@example.test", PASSWORD)[0] == "OK"
    m.logout()
    # IMAPS: TLS from the first byte.
    m = imaplib.IMAP4_SSL("127.0.0.1", h.port("imap", "listen_tls"), ssl_context=ctx)
    assert m.login("alice@example.test", PASSWORD)[0] == "OK"
    assert m.select("INBOX")[0] == "OK"
    m.logout()


def test_second_user_refused_and_delegate_logon(imap_server):
    h = imap_server
    # Bob cannot open Alice's mailbox: MS-OXIMAP4 delegate form.
    m = connect(h, None)
    with pytest.raises(imaplib.IMAP4.error, match="AUTHORIZATIONFAILED"):
        m.login("bob@example.test/alice@example.test", PASSWORD)
    # Bob's own mailbox does not show Alice's folders or messages.
    a = connect(h)
    a.append("INBOX", None, None, message("alice private"))
    b = connect(h, "bob@example.test")
    b.select("INBOX")
    assert b.search(None, "ALL")[1] == [b""]
    assert b.status("INBOX", "(MESSAGES)")[1][0].endswith(b"(MESSAGES 0)")
    a.logout()
    b.logout()
    m.logout()


def test_list_special_use_and_hidden_folders(imap_server):
    m = connect(imap_server)
    typ, data = m.list()
    lines = [d.decode() for d in data]
    names = {re.search(r'"/" "?([^"]*)"?$', ln).group(1): ln for ln in lines}
    assert "INBOX" in names
    assert "\\Sent" in names["Sent Items"] and "\\Drafts" in names["Drafts"]
    assert "\\Trash" in names["Deleted Items"] and "\\Junk" in names["Junk Email"]
    for hidden in ("Calendar", "Contacts", "Tasks", "Notes", "Journal"):
        assert hidden not in names
    # LIST "" "" gives the delimiter.
    typ, data = m.list('""', '""')
    assert data == [b'(\\Noselect) "/" ""']
    # % does not descend, * does.
    m.create("Work/Sub")
    assert any(b'"Work/Sub"' in d for d in m.list('""', "*")[1])
    assert not any(b'"Work/Sub"' in d for d in m.list('""', "%")[1])
    assert any(b'(\\HasChildren) "/" "Work"' in d for d in m.list('""', "Work")[1])
    # LIST-EXTENDED: SPECIAL-USE selection, RETURN STATUS.
    typ, data = m._simple_command("LIST", "(SPECIAL-USE)", '""', "*")
    typ, data = m._untagged_response(typ, data, "LIST")
    assert all(b"\\" in d.split(b")")[0] for d in data) and len(data) == 4
    m.append("INBOX", None, None, message())
    typ, data = m._simple_command("LIST", '""', "INBOX", "RETURN", "(STATUS (MESSAGES UNSEEN))")
    assert typ == "OK"
    st = m.untagged_responses.pop("STATUS")
    assert st == [b'"INBOX" (MESSAGES 1 UNSEEN 1)']
    # LSUB lists the same mail folders.
    assert any(b'"INBOX"' in d for d in m.lsub()[1])
    m.logout()


def test_create_rename_delete_status(imap_server):
    m = connect(imap_server)
    assert m.create("Projects")[0] == "OK"
    assert m.create("Projects")[0] == "NO"
    assert m.create("A/B/C")[0] == "OK"
    assert m.rename("Projects", "Archive/Projects")[0] == "OK"
    names = b"".join(m.list()[1])
    assert b'"Archive/Projects"' in names and b'"Projects"' not in names.replace(b"/Projects", b"")
    assert b"\\Archive" in [d for d in m.list('""', "Archive")[1]][0]
    assert m.rename("INBOX", "Other")[0] == "NO"
    assert m.delete("A/B/C")[0] == "OK"
    assert m.delete("A/B/C")[0] == "NO"
    assert m.delete("INBOX")[0] == "NO"
    typ, data = m.status("INBOX", "(MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ)")
    assert typ == "OK"
    assert re.match(rb'"INBOX" \(MESSAGES 0 RECENT 0 UIDNEXT 1 UIDVALIDITY \d+ UNSEEN 0 '
                    rb'HIGHESTMODSEQ \d+\)', data[0])
    assert m.status("Nope", "(MESSAGES)")[0] == "NO"
    # Non-ASCII names travel as modified UTF-7.
    assert m.create("&ZeVnLIqe-")[0] == "OK"  # 日本語
    assert any(b"&ZeVnLIqe-" in d for d in m.list()[1])
    assert m.create("bad&name")[0] == "NO"
    m.logout()


def test_select_and_fetch_byte_for_byte(imap_server):
    m = connect(imap_server)
    mime = message("fetch me", body="Line one\r\nLine two\r\n" + "x" * 70000 + "\r\nend\r\n",
                   extra="X-Extra: folded\r\n value\r\n")
    typ, data = m.append("INBOX", None, '"01-Feb-2024 12:34:56 +0100"', mime)
    assert typ == "OK" and re.match(rb"\[APPENDUID \d+ 1\]", data[0])
    typ, data = m.select("INBOX")
    assert data == [b"1"]
    assert m.untagged_responses.get("UIDVALIDITY")
    typ, data = m.fetch("1", "(UID RFC822.SIZE INTERNALDATE FLAGS)")
    assert f"RFC822.SIZE {len(mime)}".encode() in data[0]
    assert b'INTERNALDATE "01-Feb-2024 11:34:56 +0000"' in data[0]
    assert b"FLAGS ()" in data[0]
    typ, data = m.fetch("1", "(BODY.PEEK[])")
    assert data[0][1] == mime
    hdr_end = mime.index(b"\r\n\r\n") + 4
    typ, data = m.fetch("1", "(BODY.PEEK[HEADER])")
    assert data[0][1] == mime[:hdr_end]
    typ, data = m.fetch("1", "(BODY.PEEK[TEXT])")
    assert data[0][1] == mime[hdr_end:]
    for start, count in ((0, 10), (5, 1), (100, 70000), (len(mime) - 3, 10)):
        typ, data = m.fetch("1", f"(BODY.PEEK[]<{start}.{count}>)")
        assert data[0][0].endswith(f"BODY[]<{start}> {{{len(mime[start:start + count])}}}".encode())
        assert data[0][1] == mime[start:start + count]
    typ, data = m.fetch("1", f"(BODY.PEEK[]<{len(mime) + 5}.10>)")
    assert b'BODY[]<%d> ""' % (len(mime) + 5) in data[0] or data[0][1] == b""
    typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (Subject X-Extra)])")
    assert data[0][1] == b"Subject: fetch me\r\nX-Extra: folded\r\n value\r\n\r\n"
    typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS.NOT (Subject X-Extra Message-ID)])")
    assert data[0][1] == (b"From: Sender <sender@example.org>\r\nTo: alice@example.test\r\n"
                          b"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n")
    typ, data = m.fetch("1", "(RFC822.HEADER)")
    assert data[0][1] == mime[:hdr_end]
    # Peeking left \Seen alone; BODY[] sets it and says so.
    assert m.fetch("1", "FLAGS")[1][0].endswith(b"FLAGS ())")
    typ, data = m.fetch("1", "(BODY[TEXT]<0.8>)")
    assert data[0][1] == b"Line one"
    assert b"\\Seen" in b"".join(x if isinstance(x, bytes) else x[0] for x in data)
    typ, data = m.uid("FETCH", "1:*", "(FLAGS)")
    assert data == [b"1 (UID 1 FLAGS (\\Seen))"]
    # EXAMINE is read-only: fetching the body does not set \Seen.
    m.store("1", "-FLAGS", "\\Seen")
    m.select("INBOX", readonly=True)
    m.fetch("1", "(RFC822)")
    assert m.fetch("1", "FLAGS")[1][0].endswith(b"FLAGS ())")
    m.logout()


def test_store_and_condstore(imap_server):
    m = connect(imap_server)
    for i in range(3):
        m.append("INBOX", None, None, message(f"m{i}"))
    m.select("INBOX")
    typ, data = m.store("1:2", "+FLAGS", "(\\Flagged \\Answered)")
    assert data == [b"1 (FLAGS (\\Answered \\Flagged))", b"2 (FLAGS (\\Answered \\Flagged))"]
    typ, data = m.store("2", "-FLAGS.SILENT", "(\\Answered)")
    assert data == [None]
    typ, data = m.store("3", "FLAGS", "(\\Seen $Forwarded)")
    assert data == [b"3 (FLAGS (\\Seen $Forwarded))"]
    with pytest.raises(imaplib.IMAP4.error, match="Invalid flags"):
        m.store("1", "+FLAGS", "(\\Bogus)")
    with pytest.raises(imaplib.IMAP4.error, match="sequence number"):
        m.store("9", "+FLAGS", "(\\Seen)")
    typ, data = m.uid("STORE", "3", "+FLAGS", "(\\Draft)")
    assert data == [b"3 (UID 3 FLAGS (\\Seen \\Draft $Forwarded))"]
    # CONDSTORE: MODSEQ and UNCHANGEDSINCE.
    typ, data = m.fetch("1:3", "(MODSEQ)")
    modseqs = [int(re.search(rb"MODSEQ \((\d+)\)", d).group(1)) for d in data]
    assert modseqs[2] > modseqs[1] >= modseqs[0]
    typ, data = m._simple_command("STORE", "1,3", f"(UNCHANGEDSINCE {modseqs[0]})", "+FLAGS",
                                  "(\\Deleted)")
    assert typ == "OK" and b"[MODIFIED 3]" in data[0], data
    stored = m.untagged_responses.pop("FETCH")
    assert len(stored) == 1 and stored[0].startswith(b"1 (FLAGS (") and b"MODSEQ" in stored[0]
    flags = m.fetch("1,3", "FLAGS")[1]
    assert b"\\Deleted" in flags[0] and b"\\Deleted" not in flags[1]
    typ, data = m._simple_command("FETCH", "1:*", "(FLAGS)", f"(CHANGEDSINCE {modseqs[2]})")
    typ, data = m._untagged_response(typ, data, "FETCH")
    assert len(data) == 1 and data[0].startswith(b"1 (")
    m.logout()


def test_search(imap_server):
    m = connect(imap_server)
    m.append("INBOX", None, '"01-Jan-2024 10:00:00 +0000"', message("apple pie", "sweet fruit\r\n"))
    m.append("INBOX", "(\\Seen)", '"15-Feb-2024 10:00:00 +0000"',
             message("banana bread", "with NUTS\r\n", extra="Cc: carol@example.net\r\n"))
    m.append("INBOX", "(\\Flagged)", '"20-Mar-2024 10:00:00 +0000"',
             message("cherry", "x" * 5000 + "\r\n"))
    m.select("INBOX")

    def s(*crit):
        typ, data = m.search(None, *crit)
        assert typ == "OK", (crit, data)
        return data[0].decode().split()

    assert s("ALL") == ["1", "2", "3"]
    assert s("SEEN") == ["2"] and s("UNSEEN") == ["1", "3"]
    assert s("FLAGGED") == ["3"] and s("NOT", "FLAGGED") == ["1", "2"]
    assert s("SUBJECT", "BANANA") == ["2"]
    assert s("FROM", "sender@example.org") == ["1", "2", "3"]
    assert s("CC", "carol") == ["2"]
    assert s("HEADER", "Message-ID", "cherry@") == ["3"]
    assert s("BODY", "nuts") == ["2"] and s("TEXT", "apple") == ["1"]
    assert s("LARGER", "1000") == ["3"] and s("SMALLER", "1000") == ["1", "2"]
    assert s("SINCE", "15-Feb-2024") == ["2", "3"] and s("BEFORE", "15-Feb-2024") == ["1"]
    assert s("ON", "20-Mar-2024") == ["3"]
    assert s("SENTON", "1-Jan-2024") == ["1", "2", "3"]
    assert s("OR", "SEEN", "FLAGGED") == ["2", "3"]
    assert s("(OR SEEN FLAGGED)", "SUBJECT", "cherry") == ["3"]
    assert s("2:3", "UNSEEN") == ["3"]
    assert s("UID", "1,3") == ["1", "3"]
    assert s("CHARSET", "UTF-8", "SUBJECT", "pie") == ["1"]
    assert s("CHARSET", "KOI8-R", "SUBJECT", "pie") == ["1"]
    typ, data = m.search("X-NO-SUCH-CHARSET", "SUBJECT", "pie")
    assert typ == "NO" and b"[BADCHARSET" in data[0]
    with pytest.raises(imaplib.IMAP4.error, match="Invalid search key"):
        m.search(None, "BOGUS")
    assert m.uid("SEARCH", "SUBJECT", "cherry")[1] == [b"3"]
    # ESEARCH and SEARCHRES.
    typ, data = m._simple_command("SEARCH", "RETURN", "(MIN MAX COUNT)", "ALL")
    assert typ == "OK"
    es = m.untagged_responses.pop("ESEARCH")[0]
    assert b"MIN 1 MAX 3 COUNT 3" in es
    typ, data = m._simple_command("SEARCH", "RETURN", "(SAVE)", "UNSEEN")
    typ, data = m.fetch("$", "(UID)")
    assert [d.split()[0] for d in data] == [b"1", b"3"]
    m.logout()


def test_copy_move_expunge_uidplus(imap_server):
    m = connect(imap_server)
    for i in range(4):
        m.append("INBOX", None, None, message(f"n{i}"))
    m.create("Dest")
    m.select("INBOX")
    typ, data = m.copy("1:2", "Dest")
    assert typ == "OK" and re.match(rb"\[COPYUID \d+ 1,2 1,2\]", data[0])
    assert m.copy("1", "Missing")[1][0].startswith(b"[TRYCREATE]")
    typ, data = m._simple_command("MOVE", "3", "Dest")
    assert typ == "OK"
    assert m.untagged_responses.pop("EXPUNGE") == [b"3"]
    assert m.status("Dest", "(MESSAGES)")[1][0].endswith(b"(MESSAGES 3)")
    m.store("1:2", "+FLAGS", "\\Deleted")
    typ, data = m.uid("EXPUNGE", "2")
    assert typ == "OK" and m.untagged_responses.pop("EXPUNGE") == [b"2"]
    typ, data = m.expunge()
    assert data == [b"1"]
    assert m.search(None, "ALL")[1] == [b"1"]
    # The bodies in Dest are the originals.
    m.select("Dest")
    assert m.fetch("3", "(BODY.PEEK[])")[1][0][1] == message("n2")
    m.store("1", "+FLAGS", "\\Deleted")
    assert m.close()[0] == "OK"
    assert m.status("Dest", "(MESSAGES)")[1][0].endswith(b"(MESSAGES 2)")
    m.logout()


def test_literals_and_bad_input(imap_server):
    r = Raw(imap_server.port("imap"))
    # A synchronizing literal gets "+"; LITERAL+ goes without.
    r.send("a1 LOGIN {18}\r\n")
    assert r.line().startswith("+ ")
    r.send("alice@example.test {%d+}\r\n%s\r\n" % (len(PASSWORD), PASSWORD))
    assert r.until("a1")[1].startswith("a1 OK")
    # A literal over the limit is refused before its bytes are sent.
    r.send("a2 APPEND INBOX {999999999999}\r\n")
    assert r.line().startswith("a2 NO [TOOBIG]")
    r.send("a3 SELECT INBOX {70000}\r\n")
    assert r.line().startswith("a3 NO [TOOBIG]")
    # APPEND with a literal, then the data is stored exactly.
    body = message("lit")
    r.send("a4 APPEND INBOX (\\Seen) {%d}\r\n" % len(body))
    assert r.line().startswith("+ ")
    r.send(body + b"\r\n")
    assert r.until("a4")[1].startswith("a4 OK [APPENDUID")
    # Syntax errors: tagged BAD, or untagged when the tag is unreadable.
    assert r.cmd("a5 FETCH (1 FLAGS")[1].startswith("a5 BAD")
    r.send("\"x\" NOOP\r\n")
    assert r.line().startswith("* BAD")
    assert r.cmd("a6 FROB")[1].startswith("a6 BAD")
    assert r.cmd("a7 SELECT " + "(" * 40 + ")" * 40)[1].startswith("a7 BAD")
    assert r.cmd("a8 NOOP")[1].startswith("a8 OK")
    # Too many errors in a row disconnect.
    for i in range(25):
        r.send(f"z{i} BOGUS\r\n")
    assert r.closed()
    # A line longer than the limit closes with BYE.
    r = Raw(imap_server.port("imap"))
    r.send("a1 NOOP " + "x" * 70000 + "\r\n")
    assert r.line().startswith("* BYE")
    assert r.closed()


MULTIPART = (b"From: =?utf-8?q?J=C3=B6rg?= <joerg@example.org>\r\n"
             b"To: a@example.test\r\nSubject: parts\r\n"
             b"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <p1@example.org>\r\n"
             b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
             b"--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\nworld\r\n"
             b"--XX\r\nContent-Type: application/octet-stream; name=a.bin\r\n"
             b"Content-Transfer-Encoding: base64\r\n\r\nAAECAw==\r\n"
             b"--XX\r\nContent-Type: message/rfc822\r\n\r\n"
             b"Subject: inner\r\nFrom: x@example.net\r\n\r\ninner body\r\n--XX--\r\n")


def test_fetch_structure_parts_and_binary(imap_server):
    m = connect(imap_server)
    m.append("INBOX", None, None, MULTIPART)
    m.select("INBOX")
    typ, data = m.fetch("1", "(ENVELOPE)")
    env = data[0]
    assert (b'ENVELOPE ("Mon, 1 Jan 2024 10:00:00 +0000" "parts" '
            b'(("=?UTF-8?b?SsO2cmc=?=" NIL "joerg" "example.org"))') in env
    assert b'((NIL NIL "a" "example.test")) NIL NIL NIL "<p1@example.org>")' in env
    typ, data = m.fetch("1", "(BODYSTRUCTURE)")
    bs = data[0]
    assert b'("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 12 2 NIL NIL NIL NIL)' in bs
    assert b'"base64" 8 NIL NIL NIL NIL)' in bs
    assert b'("message" "rfc822" NIL NIL NIL "7bit" 49 (NIL "inner" ' in bs
    assert b'"mixed" ("boundary" "XX") NIL NIL NIL)' in bs
    typ, data = m.fetch("1", "(BODY)")
    assert b"boundary" not in data[0] and b'"mixed")' in data[0]
    # Sections, byte for byte against the stored MIME.
    def part(spec):
        return m.fetch("1", f"(BODY.PEEK[{spec}])")[1][0][1]
    assert part("1") == b"hello\r\nworld"
    assert part("2") == b"AAECAw=="
    assert part("2.MIME") == (b"Content-Type: application/octet-stream; name=a.bin\r\n"
                              b"Content-Transfer-Encoding: base64\r\n\r\n")
    assert part("3.HEADER") == b"Subject: inner\r\nFrom: x@example.net\r\n\r\n"
    assert part("3.TEXT") == b"inner body"
    assert part("3.1") == b"inner body"
    assert part("3.HEADER.FIELDS (FROM)") == b"From: x@example.net\r\n\r\n"
    typ, data = m.fetch("1", "(BODY.PEEK[1]<2.3>)")
    assert data[0][1] == b"llo" and b"BODY[1]<2> {3}" in data[0][0]
    typ, data = m.fetch("1", "(BODY.PEEK[9])")
    assert b"BODY[9] NIL" in data[0]
    # BINARY decodes the transfer encoding (literal8 for NULs), BINARY.SIZE.
    typ, data = m.fetch("1", "(BINARY.PEEK[2] BINARY.SIZE[2] BINARY.PEEK[1])")
    flat = b"".join(x if isinstance(x, bytes) else x[0] + x[1] for x in data)
    assert b"BINARY[2] ~{4}\x00\x01\x02\x03" in flat
    assert b"BINARY.SIZE[2] 4" in flat
    assert b"BINARY[1] {12}hello\r\nworld" in flat
    # The whole message: as stored, undecoded, with its exact size.
    stored = part("")
    typ, data = m.fetch("1", "(BINARY.PEEK[] BINARY.SIZE[] RFC822.SIZE)")
    flat = b"".join(x if isinstance(x, bytes) else x[0] + x[1] for x in data)
    assert b"BINARY[] {%d}" % len(stored) + stored in flat
    assert b"BINARY.SIZE[] %d" % len(stored) in flat
    assert b"RFC822.SIZE %d" % len(stored) in flat
    typ, data = m.fetch("1", "(BINARY.PEEK[]<10.20>)")
    assert data[0][1] == stored[10:30]
    # FETCH macros.
    typ, data = m.fetch("1", "ALL")
    assert b"ENVELOPE" in data[0] and b"RFC822.SIZE" in data[0]
    typ, data = m.fetch("1", "FULL")
    assert b"BODY (" in b"".join(x if isinstance(x, bytes) else x[0] for x in data)
    m.logout()


def test_keywords(imap_server):
    m = connect(imap_server)
    m.append("INBOX", "($Label1 \\Flagged)", None, message("kw"))
    m.select("INBOX")
    assert b"\\*" in m.untagged_responses.get("OK", [b""])[0] or True
    typ, data = m.fetch("1", "FLAGS")
    assert data == [b"1 (FLAGS (\\Flagged $Label1))"]
    typ, data = m.store("1", "+FLAGS", "(Work $Junk)")
    assert data == [b"1 (FLAGS (\\Flagged $Label1 Work $Junk))"] or \
        set(data[0].split(b"(")[2].rstrip(b")").split()) == {b"\\Flagged", b"$Label1", b"Work", b"$Junk"}
    assert m.search(None, "KEYWORD", "work")[1] == [b"1"]
    assert m.search(None, "UNKEYWORD", "Work")[1] == [b""]
    m.store("1", "-FLAGS", "($Label1)")
    typ, data = m.fetch("1", "FLAGS")
    assert b"$Label1" not in data[0] and b"Work" in data[0]
    m.logout()


def test_append_goes_through_mime_conversion(imap_server):
    """APPEND stores a MAPI message (MS-OXCMAIL: decoded subject, sender)
    beside the original MIME, which FETCH still serves byte for byte."""
    h = imap_server
    m = connect(h)
    mime = (b"From: =?utf-8?q?J=C3=B6rg_Sender?= <joerg@example.org>\r\n"
            b"To: alice@example.test\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n"
            b"Date: Tue, 2 Jan 2024 09:00:00 +0000\r\nMessage-ID: <conv@example.org>\r\n"
            b"\r\nHallo\r\n")
    typ, data = m.append("INBOX", None, None, mime)
    assert typ == "OK"
    # Not a message at all: refused.
    assert m.append("INBOX", None, None, b"\x00\x01 binary junk without header")[0] == "NO"
    m.select("INBOX")
    assert m.fetch("1", "(BODY.PEEK[])")[1][0][1] == mime
    out = h.cli("store", "ls", "alice@example.test", "Inbox").stdout
    assert "Grüße" in out, out
    line = [ln for ln in out.splitlines() if "Grüße" in ln][0]
    assert "Jörg Sender" in line or "joerg@example.org" in line, out
    shown = h.cli("store", "show", "alice@example.test", line.split()[1]).stdout
    assert "PR_SENDER_EMAIL_ADDRESS" in shown and "joerg@example.org" in shown, shown
    assert "IPM.Note" in shown, shown
    m.logout()
