"""The inbound MTA ([smtp] listen): RFC 5321 and its extensions, local
delivery into the store, every refusal (open relay in every form, limits,
bad input, commands out of order) with its enhanced status code, against
the real server with smtplib, raw sockets and swaks."""
import smtplib
import socket
import ssl
import subprocess
import time

import pytest

from smtputil import Raw, mailbox_columns, mailbox_messages, wait_for

PW = "Secret-pass-1"


@pytest.fixture
def mta(hermod_factory):
    h = hermod_factory(overrides={"smtp": {"command_timeout": "3s", "data_timeout": "6s"}})
    h.add_user("alice@example.test", PW)
    h.add_user("bob@example.test", PW)
    return h


def smtp(h):
    return smtplib.SMTP("127.0.0.1", h.port("smtp"), timeout=20)


def ehlo_raw(h):
    r = Raw(h.port("smtp"))
    assert r.reply()[0] == 220
    code, lines = r.cmd("EHLO client.test")
    assert code == 250
    return r, lines


def test_ehlo_advertises_every_extension(mta):
    s = smtp(mta)
    code, text = s.ehlo("client.test")
    assert code == 250
    feats = s.esmtp_features
    for ext in ("pipelining", "size", "8bitmime", "enhancedstatuscodes", "starttls",
                "smtputf8", "dsn", "chunking"):
        assert ext in feats, (ext, feats)
    assert feats["size"] == str(35 * 1024 * 1024)
    # Never AUTH on the MTA port.
    assert "auth" not in feats
    s.quit()


def test_delivery_into_inbox_with_received_header(mta):
    body = (b"From: Carol <carol@remote.test>\r\nTo: alice@example.test\r\n"
            b"Subject: hello\r\n\r\nline one\r\n.starts with a dot\r\n..two dots\r\n")
    s = smtp(mta)
    s.ehlo("client.test")
    s.sendmail("carol@remote.test", ["alice@example.test"], body)
    s.quit()
    msgs = mailbox_messages(mta, "alice@example.test")
    assert len(msgs) == 1
    mime = msgs[0][1]
    assert mime.startswith(b"Received: from client.test ([127.0.0.1])\r\n\tby mail.example.test"
                           b" (hermod) with ESMTP id ")
    assert b"for <alice@example.test>;" in mime
    # smtplib dot-stuffs; what is stored is the content byte for byte
    # (RFC 5321 4.5.2 undone).
    assert mime.endswith(body)
    assert msgs[0][2] > 0  # PR_MESSAGE_DELIVERY_TIME
    assert mailbox_messages(mta, "bob@example.test") == []
    # The MAPI properties come from the MIME (src/convert): subject,
    # sender, class, unread.
    rows = mailbox_columns(mta, "alice@example.test", "subject, sender_name, msg_class, flags")
    assert rows[0][0] == "hello" and rows[0][1] == "Carol" and rows[0][2] == "IPM.Note"
    assert rows[0][3] & 1 == 0


def test_one_blob_for_all_local_recipients(mta):
    s = smtp(mta)
    s.sendmail("carol@remote.test", ["alice@example.test", "bob@example.test",
                                     "ALICE@Example.Test"], b"Subject: x\r\n\r\nshared\r\n")
    s.quit()
    a = mailbox_messages(mta, "alice@example.test")
    b = mailbox_messages(mta, "bob@example.test")
    # alice named twice gets one copy; both copies are one stored blob.
    assert len(a) == 1 and len(b) == 1
    assert a[0][1] == b[0][1]
    import os
    blobs = [f for _, _, fs in os.walk(os.path.join(mta.data_dir, "blobs")) for f in fs
             if len(f) == 64]
    assert len(blobs) == 1


def test_group_expansion_and_postmaster(mta):
    mta.cli("group", "add", "team@example.test")
    mta.cli("group", "member", "add", "team@example.test", "alice@example.test")
    mta.cli("group", "member", "add", "team@example.test", "bob@example.test")
    mta.add_user("postmaster@example.test", PW)
    s = smtp(mta)
    s.ehlo("client.test")
    s.sendmail("carol@remote.test", ["team@example.test"], b"Subject: team\r\n\r\nhi\r\n")
    # RFC 5321 4.1.1.3: <Postmaster> without a domain.
    s.mail("carol@remote.test")
    assert s.rcpt("<Postmaster>")[0] == 250
    assert s.data(b"Subject: pm\r\n\r\nhi\r\n")[0] == 250
    s.quit()
    assert len(mailbox_messages(mta, "alice@example.test")) == 1
    assert len(mailbox_messages(mta, "bob@example.test")) == 1
    assert len(mailbox_messages(mta, "postmaster@example.test")) == 1


def test_unknown_user_disabled_user_and_alias(mta):
    mta.add_user("dave@example.test", PW, "--disabled")
    mta.cli("user", "alias", "add", "alice@example.test", "al@example.test")
    s = smtp(mta)
    s.ehlo("client.test")
    s.mail("carol@remote.test")
    code, msg = s.rcpt("nobody@example.test")
    assert (code, msg[:5]) == (550, b"5.1.1")
    code, msg = s.rcpt("dave@example.test")
    assert (code, msg[:5]) == (550, b"5.2.1")
    assert s.rcpt("al@example.test")[0] == 250
    assert s.data(b"Subject: alias\r\n\r\nhi\r\n")[0] == 250
    s.quit()
    assert len(mailbox_messages(mta, "alice@example.test")) == 1


@pytest.mark.parametrize("rcpt", [
    "<victim@remote.test>",                      # plain unauthenticated relay
    "<victim%remote.test@example.test>",         # percent hack
    "<@example.test:victim@remote.test>",        # source route
    "<@example.test,@mail.example.test:victim@remote.test>",
    "<\"victim@remote.test\"@example.test>",     # quoted local part
    "<victim!remote.test@example.test>",         # bang path
    "<victim@[127.0.0.1]>",                      # address literal
    "<victim@remote.test@example.test>",         # two @
    "<victim@example.test.>",                    # trailing dot
    "<victim@example.test.remote.test>",         # our name as a prefix
])
def test_never_an_open_relay(mta, rcpt):
    r, _ = ehlo_raw(mta)
    assert r.cmd("MAIL FROM:<spammer@remote.test>")[0] == 250
    code, lines = r.cmd("RCPT TO:" + rcpt)
    assert code in (550, 553, 554, 501), lines
    assert lines[0][4:5] == "5"
    code, lines = r.cmd("DATA")
    assert code == 554 and "5.5.1" in lines[0]
    r.cmd("QUIT")
    # Nothing queued for relay.
    assert "rcpts" not in mta.cli("queue", "list").stdout or \
        "victim" not in mta.cli("queue", "list").stdout


def test_relay_denied_codes(mta):
    r, _ = ehlo_raw(mta)
    r.cmd("MAIL FROM:<a@remote.test>")
    code, lines = r.cmd("RCPT TO:<victim@remote.test>")
    assert code == 554 and lines[0].startswith("554 5.7.1")
    code, lines = r.cmd("RCPT TO:<victim%remote.test@example.test>")
    assert code == 550 and lines[0].startswith("550 5.1.1")


def test_commands_out_of_order(mta):
    r = Raw(mta.port("smtp"))
    r.reply()
    code, lines = r.cmd("MAIL FROM:<a@remote.test>")
    assert code == 503 and "5.5.1" in lines[0]   # HELO/EHLO first
    r.cmd("EHLO client.test")
    assert r.cmd("RCPT TO:<alice@example.test>")[1][0].startswith("503 5.5.1")
    assert r.cmd("DATA")[1][0].startswith("503 5.5.1")
    assert r.cmd("BDAT 0 LAST")[1][0].startswith("503 5.5.1")
    assert r.cmd("MAIL FROM:<a@remote.test>")[0] == 250
    assert r.cmd("MAIL FROM:<a@remote.test>")[1][0].startswith("503 5.5.1")
    assert r.cmd("DATA")[1][0].startswith("554 5.5.1")   # no valid recipients
    assert r.cmd("RSET")[0] == 250
    assert r.cmd("FOO bar")[1][0].startswith("500 5.5.1")
    assert r.cmd("VRFY alice")[0] == 252
    assert r.cmd("EXPN team")[0] == 502
    assert r.cmd("NOOP")[0] == 250
    assert r.cmd("HELP")[0] == 214
    assert r.cmd("AUTH PLAIN AGFsaWNlAHg=")[1][0].startswith("503 5.5.1")
    assert r.cmd("QUIT")[0] == 221
    assert r.closed()


def test_syntax_errors(mta):
    r, _ = ehlo_raw(mta)
    assert r.cmd("EHLO")[1][0].startswith("501 5.5.4")
    assert r.cmd("MAIL FROM:alice@example.test")[1][0].startswith("501 5.1.7")
    assert r.cmd("MAIL FROM:<a@b> FOO=bar")[1][0].startswith("555 5.5.4")
    assert r.cmd("MAIL FROM:<a@b> BODY=BINARYMIME")[1][0].startswith("501 5.5.4")
    assert r.cmd("MAIL FROM:<a@b> SIZE=x")[1][0].startswith("501 5.5.4")
    assert r.cmd("MAIL FROM:<a@b> ENVID=a=b")[1][0].startswith("501 5.5.4")
    assert r.cmd("MAIL FROM:<>")[0] == 250                      # null sender is fine
    assert r.cmd("RCPT TO:<>")[1][0].startswith("501 5.1.3")
    assert r.cmd("RCPT TO:<alice@example.test> NOTIFY=NEVER,SUCCESS")[1][0].startswith(
        "501 5.5.4")
    assert r.cmd("RCPT TO:<alice@example.test> ORCPT=bad")[1][0].startswith("501 5.5.4")
    assert r.cmd("RCPT TO:<alice@example.test> NOTIFY=SUCCESS,FAILURE "
                 "ORCPT=rfc822;alice+40example.test")[0] == 250
    r.cmd("QUIT")


def test_size_limit_declared_and_actual(hermod_factory):
    h = hermod_factory(overrides={"smtp": {"max_message_size": "10k"}})
    h.add_user("alice@example.test", PW)
    r, lines = ehlo_raw(h)
    assert "250-SIZE 10240" in lines
    code, lines = r.cmd("MAIL FROM:<a@remote.test> SIZE=20000")
    assert code == 552 and lines[0].startswith("552 5.3.4")
    assert r.cmd("MAIL FROM:<a@remote.test> SIZE=100")[0] == 250
    assert r.cmd("RCPT TO:<alice@example.test>")[0] == 250
    assert r.cmd("DATA")[0] == 354
    r.send(("x" * 70 + "\r\n") * 200 + ".\r\n")
    code, lines = r.reply()
    assert code == 552 and lines[0].startswith("552 5.3.4")
    # The session goes on.
    assert r.cmd("MAIL FROM:<a@remote.test>")[0] == 250
    assert r.cmd("RCPT TO:<alice@example.test>")[0] == 250
    assert r.cmd("DATA")[0] == 354
    code, _ = r.cmd("Subject: small\r\n\r\nok\r\n.")
    assert code == 250
    r.cmd("QUIT")
    assert len(mailbox_messages(h, "alice@example.test")) == 1


def test_line_length_limit(mta):
    r, _ = ehlo_raw(mta)
    r.cmd("MAIL FROM:<a@remote.test>")
    r.cmd("RCPT TO:<alice@example.test>")
    assert r.cmd("DATA")[0] == 354
    r.send("Subject: long\r\n\r\n" + "y" * 998 + "\r\n")   # 1000 with CRLF: fine
    r.send("z" * 999 + "\r\n.\r\n")                           # 1001: too long
    code, lines = r.reply()
    assert code == 554 and lines[0].startswith("554 5.6.0")
    # A 1000-octet line alone is accepted.
    r.cmd("MAIL FROM:<a@remote.test>")
    r.cmd("RCPT TO:<alice@example.test>")
    r.cmd("DATA")
    code, _ = r.cmd("Subject: ok\r\n\r\n" + "y" * 998 + "\r\n.")
    assert code == 250
    # An over-long command line: 500 5.5.2, and the session goes on.
    code, lines = r.cmd("NOOP " + "a" * 5000)
    assert code == 500 and lines[0].startswith("500 5.5.2")
    assert r.cmd("NOOP")[0] == 250
    r.cmd("QUIT")
    assert len(mailbox_messages(mta, "alice@example.test")) == 1


@pytest.mark.parametrize("payload", [
    b"Subject: x\r\n\r\nbare\nLF\r\n.\r\n",
    b"Subject: x\r\n\r\nbare\rCR\r\n.\r\n",
    # SMTP smuggling: <LF>.<LF>, <LF>.<CRLF>, <CR>.<CR> must never end the
    # data; what follows them must never run as commands.
    b"Subject: x\r\n\r\nhi\n.\nMAIL FROM:<evil@remote.test>\nRCPT TO:<bob@example.test>\n"
    b"DATA\nSubject: smuggled\n\n.\n",
    b"Subject: x\r\n\r\nhi\n.\r\nMAIL FROM:<evil@remote.test>\r\n",
    b"Subject: x\r\n\r\nhi\r.\rMAIL FROM:<evil@remote.test>\r\n",
    b"Subject: x\r\n\r\nhi\r\n.\nMAIL FROM:<evil@remote.test>\r\n",
])
def test_bare_lf_cr_and_smuggling_refused(mta, payload):
    r, _ = ehlo_raw(mta)
    r.cmd("MAIL FROM:<a@remote.test>")
    r.cmd("RCPT TO:<alice@example.test>")
    assert r.cmd("DATA")[0] == 354
    r.send(payload)
    code, lines = r.reply()
    assert code == 554 and lines[0].startswith("554 5.6.0"), lines
    assert r.closed()
    assert mailbox_messages(mta, "alice@example.test") == []
    assert mailbox_messages(mta, "bob@example.test") == []


def test_only_crlf_dot_crlf_ends_data(mta):
    # "." inside a line, "..", and ". " are data; only <CRLF>.<CRLF> ends it.
    r, _ = ehlo_raw(mta)
    r.cmd("MAIL FROM:<a@remote.test>")
    r.cmd("RCPT TO:<alice@example.test>")
    r.cmd("DATA")
    r.send("Subject: dots\r\n\r\na.b\r\n. \r\n..\r\n.x\r\n")
    code, _ = r.cmd(".")
    assert code == 250
    r.cmd("QUIT")
    mime = mailbox_messages(mta, "alice@example.test")[0][1]
    # RFC 5321 4.5.2: a leading "." is removed from every line that has one.
    assert mime.endswith(b"\r\n\r\na.b\r\n \r\n.\r\nx\r\n")


def test_nul_refused(mta):
    r, _ = ehlo_raw(mta)
    r.cmd("MAIL FROM:<a@remote.test>")
    r.cmd("RCPT TO:<alice@example.test>")
    r.cmd("DATA")
    r.send(b"Subject: nul\r\n\r\na\x00b\r\n.\r\n")
    code, lines = r.reply()
    assert code == 554 and lines[0].startswith("554 5.6.0")
    assert r.cmd("NUL\x00L")[1][0].startswith("500 5.5.2")
    assert r.cmd("NOOP")[0] == 250
    r.cmd("QUIT")
    assert mailbox_messages(mta, "alice@example.test") == []


def test_commands_need_crlf(mta):
    r, _ = ehlo_raw(mta)
    r.send("NOOP\n")
    code, lines = r.reply()
    assert code == 500 and "5.5.2" in lines[0]
    r.cmd("QUIT")


def test_pipelining(mta):
    r, _ = ehlo_raw(mta)
    r.send("MAIL FROM:<a@remote.test>\r\nRCPT TO:<alice@example.test>\r\n"
           "RCPT TO:<nobody@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n")
    assert r.reply()[0] == 250
    assert r.reply()[0] == 250
    assert r.reply()[0] == 550
    assert r.reply()[0] == 250
    assert r.reply()[0] == 354
    r.send("Subject: piped\r\n\r\nhi\r\n.\r\nMAIL FROM:<a@remote.test>\r\n"
           "RCPT TO:<bob@example.test>\r\nDATA\r\n")
    assert r.reply()[0] == 250
    assert r.reply()[0] == 250
    assert r.reply()[0] == 250
    assert r.reply()[0] == 354
    code, _ = r.cmd("Subject: second\r\n\r\nhi\r\n.")
    assert code == 250
    r.cmd("QUIT")
    assert len(mailbox_messages(mta, "alice@example.test")) == 1
    assert len(mailbox_messages(mta, "bob@example.test")) == 2


def test_improper_pipelining_refused(mta):
    # Without EHLO there is no PIPELINING.
    r = Raw(mta.port("smtp"))
    r.reply()
    r.send("HELO client.test\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<alice@example.test>\r\n"
           "DATA\r\n")
    assert r.reply()[0] == 250
    assert r.reply()[0] == 250
    assert r.reply()[0] == 250
    code, lines = r.reply()
    assert code == 554 and lines[0].startswith("554 5.5.0")
    assert r.closed()
    # The message pipelined right behind DATA (before the 354) is abuse too.
    r, _ = ehlo_raw(mta)
    r.cmd("MAIL FROM:<a@remote.test>")
    r.cmd("RCPT TO:<alice@example.test>")
    r.send("DATA\r\nSubject: early\r\n\r\nhi\r\n.\r\n")
    code, lines = r.reply()
    assert code == 554 and lines[0].startswith("554 5.5.0")
    assert r.closed()
    assert mailbox_messages(mta, "alice@example.test") == []


def test_chunking_bdat(mta):
    r, _ = ehlo_raw(mta)
    r.cmd("MAIL FROM:<a@remote.test>")
    r.cmd("RCPT TO:<alice@example.test>")
    part1 = b"Subject: chunks\r\n\r\n"
    part2 = b"first\r\n.not stuffed\r\n"
    r.send(b"BDAT %d\r\n" % len(part1) + part1)
    code, lines = r.reply()
    assert code == 250 and lines[0].startswith("250 2.0.0")
    # A chunk pipelined with the next one.
    r.send(b"BDAT %d\r\n" % len(part2) + part2 + b"BDAT 0 LAST\r\n")
    assert r.reply()[0] == 250
    code, lines = r.reply()
    assert code == 250 and "queued" in lines[0]
    # DATA after BDAT in one transaction is refused; BDAT without MAIL too
    # (its octets are still consumed, RFC 3030 2).
    r.cmd("MAIL FROM:<a@remote.test>")
    r.cmd("RCPT TO:<alice@example.test>")
    r.send(b"BDAT 3\r\nabc")
    assert r.reply()[0] == 250
    assert r.cmd("DATA")[1][0].startswith("503 5.5.1")
    assert r.cmd("RSET")[0] == 250
    r.send(b"BDAT 5 LAST\r\nhello")
    assert r.reply()[1][0].startswith("503 5.5.1")
    assert r.cmd("NOOP")[0] == 250
    assert r.cmd("BDAT x")[1][0].startswith("501 5.5.4")
    assert r.closed()
    msgs = mailbox_messages(mta, "alice@example.test")
    assert len(msgs) == 1
    assert msgs[0][1].endswith(part1 + part2)


def test_bdat_size_limit(hermod_factory):
    h = hermod_factory(overrides={"smtp": {"max_message_size": "4k"}})
    h.add_user("alice@example.test", PW)
    r, _ = ehlo_raw(h)
    r.cmd("MAIL FROM:<a@remote.test>")
    r.cmd("RCPT TO:<alice@example.test>")
    r.send(b"BDAT 5000 LAST\r\n" + b"x" * 5000)
    code, lines = r.reply()
    assert code == 552 and lines[0].startswith("552 5.3.4")
    assert r.cmd("NOOP")[0] == 250
    r.cmd("QUIT")
    assert mailbox_messages(h, "alice@example.test") == []


def test_smtputf8_and_8bitmime(mta):
    mta.cli("user", "alias", "add", "alice@example.test", "alice2@example.test")
    r, _ = ehlo_raw(mta)
    # A UTF-8 address needs SMTPUTF8 (RFC 6531 3.5).
    code, lines = r.cmd("MAIL FROM:<j\u00f6rg@remote.test>")
    assert code == 553 and lines[0].startswith("553 5.6.7")
    assert r.cmd("MAIL FROM:<j\u00f6rg@remote.test> SMTPUTF8 BODY=8BITMIME")[0] == 250
    assert r.cmd("RCPT TO:<alice@example.test>")[0] == 250
    assert r.cmd("DATA")[0] == 354
    code, _ = r.cmd("Subject: gr\u00fc\u00dfe\r\nFrom: j\u00f6rg@remote.test\r\n\r\n"
                    "\u00e4\u00f6\u00fc\r\n.")
    assert code == 250
    r.cmd("QUIT")
    mime = mailbox_messages(mta, "alice@example.test")[0][1]
    assert b"with UTF8SMTP id" in mime
    assert "gr\u00fc\u00dfe".encode() in mime


def test_dsn_parameters_accepted(mta):
    s = smtp(mta)
    s.ehlo("client.test")
    s.sendmail("carol@remote.test", ["alice@example.test"], b"Subject: dsn\r\n\r\nhi\r\n",
               mail_options=["RET=HDRS", "ENVID=QQ314159"],
               rcpt_options=["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;alice@example.test"])
    s.quit()
    assert len(mailbox_messages(mta, "alice@example.test")) == 1


def test_starttls(mta):
    s = smtp(mta)
    s.ehlo("client.test")
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s.starttls(context=ctx)
    code, _ = s.ehlo("client.test")
    assert code == 250 and "starttls" not in s.esmtp_features
    s.sendmail("carol@remote.test", ["alice@example.test"], b"Subject: tls\r\n\r\nhi\r\n")
    code, msg = s.docmd("STARTTLS")
    assert code == 503
    s.quit()
    mime = mailbox_messages(mta, "alice@example.test")[0][1]
    assert b"with ESMTPS id" in mime


def test_starttls_discards_pipelined_plaintext(mta):
    r, _ = ehlo_raw(mta)
    # A command injected behind STARTTLS (CVE-2011-0411) must be dropped.
    r.send("STARTTLS\r\nMAIL FROM:<evil@remote.test>\r\n")
    assert r.reply()[0] == 220
    r.starttls()
    code, lines = r.cmd("RCPT TO:<alice@example.test>")
    assert code == 503, lines
    r.cmd("QUIT")


def test_too_many_recipients(hermod_factory):
    h = hermod_factory(overrides={"smtp": {"max_recipients": "100"}})
    h.add_user("alice@example.test", PW)
    r, _ = ehlo_raw(h)
    r.cmd("MAIL FROM:<a@remote.test>")
    for _ in range(100):
        assert r.cmd("RCPT TO:<alice@example.test>")[0] == 250
    code, lines = r.cmd("RCPT TO:<alice@example.test>")
    assert code == 452 and lines[0].startswith("452 4.5.3")
    assert r.cmd("DATA")[0] == 354
    assert r.cmd("Subject: many\r\n\r\nhi\r\n.")[0] == 250
    r.cmd("QUIT")
    assert len(mailbox_messages(h, "alice@example.test")) == 1


def test_rcpt_flood_and_error_flood_disconnect(hermod_factory):
    h = hermod_factory(overrides={"smtp": {"max_errors": "5"}})
    r, _ = ehlo_raw(h)
    r.cmd("MAIL FROM:<a@remote.test>")
    codes = []
    for i in range(4):
        codes.append(r.cmd(f"RCPT TO:<nobody{i}@example.test>")[0])
    assert codes == [550] * 4
    code, lines = r.cmd("RCPT TO:<nobody9@example.test>")
    assert code == 550
    code, lines = r.reply()
    assert code == 421 and lines[0].startswith("421 4.7.0")
    assert r.closed()
    # Another session is not affected.
    r2, _ = ehlo_raw(h)
    assert r2.cmd("NOOP")[0] == 250
    r2.cmd("QUIT")


def test_slow_client_is_cut_off_without_hanging_others(mta):
    # command_timeout is 3 s in this fixture: a client that trickles one
    # byte every second never finishes its command.
    slow = Raw(mta.port("smtp"))
    slow.reply()
    t0 = time.time()
    got = None
    for ch in "EHLO slowly.example.test.with.a.long.name\r\n":
        try:
            slow.send(ch)
        except OSError:
            break
        # Meanwhile a normal client is served at once.
        if time.time() - t0 < 2:
            s = smtp(mta)
            s.ehlo("fast.test")
            s.sendmail("c@remote.test", ["alice@example.test"], b"Subject: f\r\n\r\nx\r\n")
            s.quit()
        time.sleep(0.5)
        if time.time() - t0 > 8:
            break
    try:
        got = slow.reply()
    except EOFError:
        got = None
    assert got is not None and got[0] == 421 and got[1][0].startswith("421 4.4.2")
    assert time.time() - t0 < 9
    assert len(mailbox_messages(mta, "alice@example.test")) >= 1


def test_slow_data_is_cut_off(mta):
    r, _ = ehlo_raw(mta)
    r.cmd("MAIL FROM:<a@remote.test>")
    r.cmd("RCPT TO:<alice@example.test>")
    r.cmd("DATA")
    t0 = time.time()
    code = None
    while time.time() - t0 < 10:
        try:
            r.send("x\r\n")
        except OSError:
            break
        time.sleep(0.5)
        r.sock.settimeout(0.01)
        try:
            d = r.sock.recv(4096)
            if d:
                r.buf += d
                break
        except (socket.timeout, BlockingIOError):
            pass
        except OSError:
            break
    r.sock.settimeout(5)
    code, lines = r.reply()
    assert code == 421 and lines[0].startswith("421 4.4.2")
    assert mailbox_messages(mta, "alice@example.test") == []


def test_full_mailbox(mta):
    mta.add_user("small@example.test", PW, "--quota", "3k")
    s = smtp(mta)
    s.ehlo("client.test")
    # A declared SIZE that does not fit: 452 4.2.2 at RCPT time.
    s.mail("c@remote.test", ["SIZE=5000"])
    code, msg = s.rcpt("small@example.test")
    assert code == 452 and msg.startswith(b"4.2.2")
    s.rset()
    # One that fits is accepted and delivered.
    s.mail("c@remote.test", ["SIZE=100"])
    assert s.rcpt("small@example.test")[0] == 250
    assert s.data(b"Subject: a\r\n\r\nsmall\r\n")[0] == 250
    s.quit()
    assert len(mailbox_messages(mta, "small@example.test")) == 1

def test_helo_session_has_no_parameters(mta):
    r = Raw(mta.port("smtp"))
    r.reply()
    assert r.cmd("HELO client.test")[0] == 250
    assert r.cmd("MAIL FROM:<a@remote.test> SIZE=10")[1][0].startswith("555 5.5.4")
    assert r.cmd("MAIL FROM:<a@remote.test>")[0] == 250
    assert r.cmd("RCPT TO:<alice@example.test>")[0] == 250
    assert r.cmd("DATA")[0] == 354
    assert r.cmd("Subject: helo\r\n\r\nhi\r\n.")[0] == 250
    r.cmd("QUIT")
    mime = mailbox_messages(mta, "alice@example.test")[0][1]
    assert b"with SMTP id" in mime


def test_shutdown_says_421(mta):
    r, _ = ehlo_raw(mta)
    mta.proc.send_signal(15)
    code, lines = r.reply()
    assert code == 421 and lines[0].startswith("421 4.3.2")
    assert mta.proc.wait(20) == 0


def swaks(*args):
    return subprocess.run(["swaks", "--hide-informational", *args], capture_output=True,
                          text=True, timeout=60)


def test_swaks_every_extension(mta):
    port = str(mta.port("smtp"))
    base = ["--server", "127.0.0.1", "--port", port, "--from", "c@remote.test",
            "--to", "alice@example.test", "--helo", "swaks.test"]
    r = swaks(*base, "--pipeline")
    assert r.returncode == 0, r.stdout + r.stderr
    r = swaks(*base, "--tls")
    assert r.returncode == 0, r.stdout + r.stderr
    r = swaks(*base, "--protocol", "ESMTP", "--data", "Subject: 8bit\r\n\r\n\u00e9t\u00e9\r\n",
              "--body", "x")
    assert r.returncode == 0, r.stdout + r.stderr
    msgs = mailbox_messages(mta, "alice@example.test")
    assert len(msgs) == 3
    assert b"with ESMTPS" in msgs[1][1]


def test_swaks_refusals(mta):
    port = str(mta.port("smtp"))
    r = swaks("--server", "127.0.0.1", "--port", port, "--from", "c@remote.test",
              "--to", "victim@remote.test")
    assert r.returncode != 0
    assert "554 5.7.1" in r.stdout
    r = swaks("--server", "127.0.0.1", "--port", port, "--from", "c@remote.test",
              "--to", "nobody@example.test")
    assert r.returncode != 0
    assert "550 5.1.1" in r.stdout


def test_swaks_data_refusals_and_relay_forms(hermod_factory, tmp_path):
    # The refusals a real client sees, through swaks: size (declared by the
    # 250-SIZE and exceeded), a bare LF, a NUL, an over-long line, the
    # recipient limit, and the open-relay forms; nothing is delivered.
    h = hermod_factory(overrides={"smtp": {"max_message_size": "10k",
                                           "max_recipients": "100"}})
    h.add_user("alice@example.test", PW)
    port = str(h.port("smtp"))
    base = ["--server", "127.0.0.1", "--port", port, "--from", "c@remote.test",
            "--helo", "swaks.test"]

    def data_file(name, content):
        p = tmp_path / name
        p.write_bytes(content)
        return "@" + str(p)

    cases = [
        (data_file("big", b"Subject: big\r\n\r\n" + (b"y" * 70 + b"\r\n") * 200), [],
         "552 5.3.4"),
        # --no-data-fixup sends the file as is, end of data included.
        (data_file("lf", b"Subject: lf\r\n\r\nbare\nlf\r\n.\r\n"), ["--no-data-fixup"],
         "554 5.6.0"),
        (data_file("nul", b"Subject: nul\r\n\r\nn\x00l\r\n.\r\n"), ["--no-data-fixup"],
         "554 5.6.0"),
        (data_file("long", b"Subject: long\r\n\r\n" + b"z" * 999 + b"\r\n.\r\n"),
         ["--no-data-fixup"], "554 5.6.0"),
    ]
    for data, extra, want in cases:
        r = swaks(*base, "--to", "alice@example.test", "--data", data, *extra)
        assert r.returncode != 0 and want in r.stdout, (data, r.stdout + r.stderr)
    # One over the recipient limit: the 101st RCPT gets 452 4.5.3 (and
    # swaks gives up on the transaction).
    r = swaks(*base, "--to", ",".join(["alice@example.test"] * 101))
    assert r.returncode != 0 and "452 4.5.3" in r.stdout, r.stdout + r.stderr
    for rcpt, want in (("victim@remote.test", "554 5.7.1"),
                       ("victim%remote.test@example.test", "550 5.1.1"),
                       ("victim!remote.test@example.test", "550 5.1.1"),
                       ('"victim@remote.test"@example.test', "550 5.1.1"),
                       ("@example.test:victim@remote.test", "554 5.7.1"),
                       ("victim@[127.0.0.1]", "554 5.7.1")):
        r = swaks(*base, "--to", rcpt)
        assert r.returncode != 0 and want in r.stdout, (rcpt, r.stdout + r.stderr)
    assert mailbox_messages(h, "alice@example.test") == []
    # The same server takes a proper message from the same client.
    r = swaks(*base, "--to", "alice@example.test")
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(mailbox_messages(h, "alice@example.test")) == 1
