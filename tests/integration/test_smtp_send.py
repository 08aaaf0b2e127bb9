"""The submit path through `hermod send USER FILE.eml`: the message goes
into the Outbox, is converted to MIME (MS-OXCMAIL), its recipients are
resolved (local users, a group, a remote domain, Bcc in the envelope
only, an unknown local address reported back), and the original ends in
Sent Items; the From: is kept when the user may send as it (their own
addresses, Send As grants) and refused otherwise."""
import email
import os

from smtputil import (OUTBOX, SENT_ITEMS, Sink, mailbox_columns, mailbox_messages,
                      wait_for)

PW = "Secret-pass-1"


def test_hermod_send(hermod_factory, tmp_path):
    sink = Sink()
    try:
        h = hermod_factory(overrides={"transport": {
            "routes": f"remote.test=127.0.0.1:{sink.port}", "retry_min": "1s"}})
        for u in ("alice", "bob", "carol", "dave", "erin"):
            h.add_user(f"{u}@example.test", PW)
        h.cli("group", "add", "team@example.test")
        h.cli("group", "member", "add", "team@example.test", "carol@example.test")
        h.cli("group", "member", "add", "team@example.test", "dave@example.test")
        eml = tmp_path / "m.eml"
        eml.write_bytes(
            b"From: Alice <alice@example.test>\r\n"
            b"To: Bob <bob@example.test>, team@example.test\r\n"
            b"Cc: Zed <zed@remote.test>\r\n"
            b"Bcc: erin@example.test, ghost@example.test\r\n"
            b"Subject: =?utf-8?q?gr=C3=BC=C3=9Fe?= from send\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            b"Hello \xc3\xa0 all\r\n")
        r = h.cli("send", "alice@example.test", str(eml))
        assert "sent as" in r.stdout
        # Local recipients, the group's members and the Bcc one.
        for u in ("bob", "carol", "dave", "erin"):
            msgs = mailbox_messages(h, f"{u}@example.test")
            assert len(msgs) == 1, u
            m = email.message_from_bytes(msgs[0][1])
            assert m["From"] == "Alice <alice@example.test>"
            assert m["Sender"] is None
            assert m["Bcc"] is None                  # Bcc only in the envelope
            assert "grüße" in str(email.header.make_header(
                email.header.decode_header(m["Subject"])))
        rows = mailbox_columns(h, "bob@example.test", "subject")
        assert rows[0][0] == "grüße from send"
        # The remote recipient through the queue.
        assert wait_for(lambda: sink.messages)
        assert sink.messages[0]["mail_from"] == "alice@example.test"
        assert sink.messages[0]["rcpts"] == ["zed@remote.test"]
        # The original is in Sent Items, read; the Outbox is empty.
        assert mailbox_messages(h, "alice@example.test", OUTBOX) == []
        sent = mailbox_columns(h, "alice@example.test", "subject, flags", SENT_ITEMS)
        assert len(sent) == 1 and sent[0][0] == "grüße from send" and sent[0][1] & 1
        # ghost@example.test does not exist: a report to alice.
        dsn = wait_for(lambda: mailbox_messages(h, "alice@example.test"))
        assert b"Final-Recipient: rfc822; ghost@example.test" in dsn[0][1]
    finally:
        sink.stop()


def test_send_as(hermod_factory, tmp_path):
    """A From: of another user or of a group: refused (the message stays
    in the Outbox) until the user has Send As on it; then it goes out as
    theirs, envelope sender included, and the copy in Sent Items shows
    it."""
    sink = Sink()
    try:
        h = hermod_factory(overrides={"transport": {
            "routes": f"remote.test=127.0.0.1:{sink.port}", "retry_min": "1s"}})
        for u in ("alice", "bob", "shared"):
            h.add_user(f"{u}@example.test", PW)
        h.cli("user", "set", "shared@example.test", "--name", "Shared Box")
        h.cli("group", "add", "sales@example.test", "--name", "Sales")
        eml = tmp_path / "as.eml"

        def send(frm, subject):
            eml.write_bytes(f"From: {frm}\r\nTo: bob@example.test, zed@remote.test\r\n"
                            f"Subject: {subject}\r\n\r\nhi\r\n".encode())
            return h.cli("send", "alice@example.test", str(eml), check=False)

        for frm in ("shared@example.test", "Sales <sales@example.test>",
                    "Somebody Else <mallory@example.test>"):
            r = send(frm, "denied")
            assert r.returncode == 1 and "may not send as the From address" in r.stderr
        assert len(mailbox_messages(h, "alice@example.test", OUTBOX)) == 3
        assert mailbox_messages(h, "bob@example.test") == []
        h.cli("user", "send-as", "add", "alice@example.test", "shared@example.test")
        h.cli("user", "send-as", "add", "alice@example.test", "sales@example.test")
        assert send("shared@example.test", "as shared").returncode == 0
        assert send("Team Sales <sales@example.test>", "as sales").returncode == 0
        got = [email.message_from_bytes(m[1]) for m in mailbox_messages(h, "bob@example.test")]
        # No name given: the directory's display name.
        assert [(m["Subject"], m["From"], m["Sender"]) for m in got] == [
            ("as shared", "Shared Box <shared@example.test>", None),
            ("as sales", "Team Sales <sales@example.test>", None)]
        assert wait_for(lambda: len(sink.messages) == 2)
        assert sorted(m["mail_from"] for m in sink.messages) == \
            ["sales@example.test", "shared@example.test"]
        sent = mailbox_columns(h, "alice@example.test", "subject, sender_name", SENT_ITEMS)
        assert sorted(sent) == [("as sales", "Team Sales"), ("as shared", "Shared Box")]
        # Revoked: refused again.
        h.cli("user", "send-as", "del", "alice@example.test", "shared@example.test")
        r = send("shared@example.test", "denied again")
        assert r.returncode == 1 and "may not send as" in r.stderr
    finally:
        sink.stop()


def test_send_refusals(hermod_factory, tmp_path):
    h = hermod_factory()
    h.add_user("alice@example.test", PW)
    eml = tmp_path / "norcpt.eml"
    eml.write_bytes(b"Subject: nobody\r\n\r\nhi\r\n")
    r = h.cli("send", "alice@example.test", str(eml), check=False)
    assert r.returncode == 1 and "no recipients" in r.stderr
    # The unsent message stays in the Outbox.
    assert len(mailbox_messages(h, "alice@example.test", OUTBOX)) == 1
    r = h.cli("send", "nobody@example.test", str(eml), check=False)
    assert r.returncode == 1 and "no such user" in r.stderr
    r = h.cli("send", "alice@example.test", os.path.join(str(tmp_path), "missing"),
              check=False)
    assert r.returncode == 1
    assert h.cli("send", "alice@example.test", check=False).returncode == 2
