"""Sending through EWS on the real submit path (src/transport): CreateItem
SendOnly and SendAndSaveCopy, SendItem, to oneself and to another user, and
the other protocols' view: an EWS-sent message is read over IMAP, a message
delivered by SMTP is found and synchronised over EWS; Send As (a From of
another user or a group: ErrorSendAsDenied until granted)."""
import email
import imaplib
import smtplib

import pytest
from lxml import etree

from ewsutil import ALICE, BOB, NS, account, add_users, call, code, dist, messages
from test_ews_items import create, found, find, iid, item_id, message, subject_is
from test_ews_sync import changes, sync_items


def subjects(hermod, folder, auth=ALICE):
    _, subj = found(find(hermod, dist(folder), auth=auth))
    return sorted(subj)


def test_send_raw(hermod):
    add_users(hermod)
    # SendAndSaveCopy to oneself and to Bob: both inboxes, a copy in Sent Items
    (msg,) = create(hermod, message("hello both", "the body", to=[ALICE[0], BOB[0]]),
                    disposition="SendAndSaveCopy")
    assert code(msg) == "NoError", etree.tostring(msg)
    assert len(msg.find("m:Items", NS)) == 0  # nothing to return: it was sent
    assert subjects(hermod, "inbox") == ["hello both"]
    assert subjects(hermod, "inbox", auth=BOB) == ["hello both"]
    assert subjects(hermod, "sentitems") == ["hello both"]
    assert subjects(hermod, "drafts") == []
    # what Bob got: from Alice, his copy unread, hers in Sent Items read
    rf, _ = found(find(hermod, dist("inbox"), auth=BOB, base="AllProperties"))
    item = rf.find("t:Items", NS)[0]
    assert item.findtext("t:From/t:Mailbox/t:EmailAddress", namespaces=NS) == ALICE[0]
    assert item.findtext("t:IsRead", namespaces=NS) == "false"
    rf, _ = found(find(hermod, dist("sentitems"), base="AllProperties"))
    sent = rf.find("t:Items", NS)[0]
    assert sent.findtext("t:IsRead", namespaces=NS) == "true"
    assert sent.findtext("t:IsDraft", namespaces=NS) == "false"
    # SendOnly: delivered, no copy kept anywhere
    (msg,) = create(hermod, message("only sent", to=[BOB[0]]), disposition="SendOnly")
    assert code(msg) == "NoError"
    assert subjects(hermod, "inbox", auth=BOB) == ["hello both", "only sent"]
    assert subjects(hermod, "sentitems") == ["hello both"]
    assert subjects(hermod, "drafts") == []
    # SaveOnly then SendItem, the copy to a folder of one's choice
    (msg,) = create(hermod, message("draft first", to=[BOB[0]]))
    ident, ck = item_id(msg)
    resp = call(hermod, '<m:SendItem SaveItemToFolder="true"><m:ItemIds>'
                f"{iid(ident, ck)}</m:ItemIds><m:SavedItemFolderId>{dist('inbox')}"
                "</m:SavedItemFolderId></m:SendItem>")
    assert code(messages(resp)[0]) == "NoError"
    assert "draft first" in subjects(hermod, "inbox", auth=BOB)
    assert subjects(hermod, "inbox") == ["draft first", "hello both"]
    assert subjects(hermod, "drafts") == []
    # no recipients, a recipient nobody has
    (msg,) = create(hermod, message("to nobody"), disposition="SendAndSaveCopy")
    assert code(msg) == "ErrorInvalidRecipients"
    assert subjects(hermod, "drafts") == []
    (msg,) = create(hermod, message("to a ghost", to=["ghost@example.test"]),
                    disposition="SendAndSaveCopy")
    assert code(msg) == "NoError"  # as Exchange: a non-delivery report follows
    # the item sent is gone from where it was: sending it again fails
    resp = call(hermod, f'<m:SendItem SaveItemToFolder="false"><m:ItemIds>{iid(ident)}'
                "</m:ItemIds></m:SendItem>")
    assert code(messages(resp)[0]) == "ErrorItemNotFound"


def test_send_exchangelib_and_imap(hermod):
    """exchangelib send_and_save to self and to Bob; Bob reads it over IMAP
    as EWS shows it."""
    add_users(hermod)
    from exchangelib import HTMLBody, Mailbox, Message
    acct = account(hermod)
    m = Message(account=acct, subject="Lunch on Friday?",
                body=HTMLBody("<html><body><p>Shall we meet at <b>noon</b>?</p></body></html>"),
                to_recipients=[Mailbox(email_address=BOB[0])],
                cc_recipients=[Mailbox(email_address=ALICE[0])])
    m.send_and_save()
    (mine,) = acct.inbox.filter(subject="Lunch on Friday?")
    assert "noon" in mine.text_body
    (copy,) = acct.sent.filter(subject="Lunch on Friday?")
    assert copy.is_read
    bob = account(hermod, user=BOB)
    (his,) = bob.inbox.filter(subject="Lunch on Friday?")
    assert his.sender.email_address == ALICE[0]
    assert [r.email_address for r in his.to_recipients] == [BOB[0]]
    assert [r.email_address for r in his.cc_recipients] == [ALICE[0]]
    assert "<b>noon</b>" in his.body
    # the same message over IMAP
    im = imaplib.IMAP4("127.0.0.1", hermod.port("imap"))
    im.login(*BOB)
    im.select("INBOX", readonly=True)
    typ, data = im.search(None, "SUBJECT", '"Lunch on Friday"')
    (num,) = data[0].split()
    typ, data = im.fetch(num, "(BODY.PEEK[])")
    parsed = email.message_from_bytes(data[0][1])
    assert parsed["Subject"] == "Lunch on Friday?"
    assert ALICE[0] in parsed["From"] and BOB[0] in parsed["To"]
    html = [p for p in parsed.walk() if p.get_content_type() == "text/html"]
    assert html and "<b>noon</b>" in html[0].get_payload(decode=True).decode()
    im.logout()


def test_smtp_delivery_seen_by_ews(hermod):
    """A message that arrives by SMTP is found, read and synchronised
    through EWS; an IMAP change to it reaches the sync too."""
    add_users(hermod)
    inbox = dist("inbox")
    _, state, _ = changes(sync_items(hermod, inbox))
    mime = (f"From: Dave <dave@elsewhere.test>\r\nTo: {ALICE[0]}\r\n"
            "Subject: Delivered by SMTP\r\nMessage-ID: <smtp-1@elsewhere.test>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\nPlain text from afar\r\n")
    with smtplib.SMTP("127.0.0.1", hermod.port("smtp")) as s:
        s.sendmail("dave@elsewhere.test", [ALICE[0]], mime.encode())
    got, state2, last = changes(sync_items(hermod, inbox, state, shape="Default"))
    assert [(g[0], g[2]) for g in got] == [("Create", "Delivered by SMTP")] and last
    ident = got[0][1]
    rf, subj = found(find(hermod, inbox, restriction=subject_is("Delivered by SMTP"),
                          base="AllProperties"))
    assert subj == ["Delivered by SMTP"]
    item = rf.find("t:Items", NS)[0]
    assert item.findtext("t:From/t:Mailbox/t:EmailAddress", namespaces=NS) == \
        "dave@elsewhere.test"
    assert item.findtext("t:InternetMessageId", namespaces=NS) == "<smtp-1@elsewhere.test>"
    assert item.findtext("t:IsRead", namespaces=NS) == "false"
    resp = call(hermod, "<m:GetItem><m:ItemShape><t:BaseShape>Default</t:BaseShape>"
                "<t:BodyType>Text</t:BodyType></m:ItemShape>"
                f"<m:ItemIds>{iid(ident)}</m:ItemIds></m:GetItem>")
    body = messages(resp)[0].find("m:Items", NS)[0].findtext("t:Body", namespaces=NS)
    assert "Plain text from afar" in body
    # IMAP reads it: EWS sees the read-state change
    im = imaplib.IMAP4("127.0.0.1", hermod.port("imap"))
    im.login(*ALICE)
    im.select("INBOX")
    im.fetch("1", "(BODY[])")
    im.logout()
    got, _, _ = changes(sync_items(hermod, inbox, state2))
    assert got == [("ReadFlagChange", ident, "true")]


def test_send_as(hermod):
    """Exchange's Send As through EWS: a From (t:From, exchangelib's author)
    of another user or a group is ErrorSendAsDenied, nothing sent and no
    draft left, until `hermod user send-as add`; then the message goes out
    from it (From and Sender both), over CreateItem and SendItem, and is
    refused again once revoked."""
    add_users(hermod)
    hermod.add_user("shared@example.test", "shared-pw-1", "--name", "Shared Box")
    hermod.cli("user", "alias", "add", "shared@example.test", "info@example.test")
    hermod.cli("group", "add", "sales@example.test", "--name", "Sales")
    from exchangelib import Mailbox, Message
    from exchangelib.errors import ErrorSendAsDenied

    def frm(address):
        return (f"<t:From><t:Mailbox><t:EmailAddress>{address}</t:EmailAddress>"
                "</t:Mailbox></t:From></t:Message>")

    def raw(subject, address, disposition="SendAndSaveCopy"):
        item = message(subject, to=[BOB[0]]).replace("</t:Message>", frm(address))
        return create(hermod, item, disposition=disposition)[0]

    acct = account(hermod)
    for target in ("shared@example.test", "info@example.test", "sales@example.test"):
        with pytest.raises(ErrorSendAsDenied):
            Message(account=acct, subject="denied", to_recipients=[Mailbox(email_address=BOB[0])],
                    author=Mailbox(email_address=target)).send_and_save()
        assert code(raw("denied", target, "SendOnly")) == "ErrorSendAsDenied"
    assert subjects(hermod, "inbox", auth=BOB) == []
    assert subjects(hermod, "drafts") == [] and subjects(hermod, "sentitems") == []
    # A draft with such a From: saved, but SendItem refuses it.
    (msg,) = create(hermod, message("draft as shared", to=[BOB[0]]).replace(
        "</t:Message>", frm("shared@example.test")))
    ident, _ = item_id(msg)
    send_item = (f'<m:SendItem SaveItemToFolder="true"><m:ItemIds>{iid(ident)}</m:ItemIds>'
                 "</m:SendItem>")
    assert code(messages(call(hermod, send_item))[0]) == "ErrorSendAsDenied"
    # Granted: sent from it, with the directory's display name.
    hermod.cli("user", "send-as", "add", ALICE[0], "shared@example.test")
    hermod.cli("user", "send-as", "add", ALICE[0], "sales@example.test")
    Message(account=acct, subject="as shared", to_recipients=[Mailbox(email_address=BOB[0])],
            author=Mailbox(email_address="shared@example.test")).send_and_save()
    assert code(raw("as sales", "sales@example.test")) == "NoError"
    assert code(messages(call(hermod, send_item))[0]) == "NoError"
    bob = account(hermod, user=BOB)
    got = {m.subject: m for m in bob.inbox.all()}
    assert sorted(got) == ["as sales", "as shared", "draft as shared"]
    for subject, address, name in (("as shared", "shared@example.test", "Shared Box"),
                                   ("as sales", "sales@example.test", "Sales"),
                                   ("draft as shared", "shared@example.test", "Shared Box")):
        m = got[subject]
        assert (m.author.email_address, m.author.name) == (address, name), subject
        assert m.sender.email_address == address, subject
    (copy,) = acct.sent.filter(subject="as shared")
    assert copy.author.email_address == "shared@example.test"
    # Revoked: denied again.
    hermod.cli("user", "send-as", "del", ALICE[0], "info@example.test")
    assert code(raw("denied again", "shared@example.test")) == "ErrorSendAsDenied"
    assert code(raw("still", "sales@example.test")) == "NoError"
