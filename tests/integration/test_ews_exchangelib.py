"""The whole EWS story with exchangelib as the only client, configured
through its Autodiscover (ewsutil.account_autodiscover): the folder tree, a
folder created, renamed and deleted, a message sent to oneself and to
another user with SendAndSaveCopy, found by subject with a restriction and
a sort, its body as text and HTML, its MIME, marked read, an attachment
added and fetched, moved and deleted, folder sync across changes made by
SMTP and IMAP, a name resolved and a group expanded."""
import imaplib
import smtplib

from ewsutil import ALICE, BOB, account_autodiscover, add_users


def test_exchangelib_through_autodiscover(hermod):
    add_users(hermod)
    hermod.cli("group", "add", "crew@example.test", "--name", "Crew")
    hermod.cli("group", "member", "add", "crew@example.test", ALICE[0])
    hermod.cli("group", "member", "add", "crew@example.test", BOB[0])
    from exchangelib import FileAttachment, Folder, HTMLBody, Mailbox, Message
    acct = account_autodiscover(hermod)
    bob = account_autodiscover(hermod, user=BOB)

    # the folder tree; a folder made, renamed, deleted
    names = {f.name for f in acct.msg_folder_root.walk()}
    assert {"Inbox", "Drafts", "Sent Items", "Deleted Items"} <= names
    f = Folder(parent=acct.inbox, name="Receipts")
    f.save()
    f.name = "Receipts 2024"
    f.save()
    assert [c.name for c in acct.inbox.children] == ["Receipts 2024"]

    # sync state before anything arrives
    assert list(acct.inbox.sync_items()) == []

    # sent to oneself and to Bob, a copy kept
    Message(account=acct, subject="Plans for the offsite",
            body=HTMLBody("<html><body><p>Bring <i>boots</i>.</p></body></html>"),
            to_recipients=[Mailbox(email_address=ALICE[0]),
                           Mailbox(email_address=BOB[0])]).send_and_save()
    Message(account=acct, subject="Plans, second thoughts", body="plain words",
            to_recipients=[Mailbox(email_address=ALICE[0])]).send_and_save()
    assert bob.inbox.filter(subject="Plans for the offsite").count() == 1
    assert acct.sent.filter(subject__startswith="Plans").count() == 2

    # found by subject with a restriction and a sort
    got = list(acct.inbox.filter(subject__contains="Plans").order_by("-datetime_received"))
    assert [m.subject for m in got] == ["Plans, second thoughts", "Plans for the offsite"]
    m = got[1]
    assert "<i>boots</i>" in m.body and "boots" in m.text_body
    assert b"Plans for the offsite" in m.mime_content
    assert m.is_read is False
    m.is_read = True
    m.save(update_fields=["is_read"])
    assert acct.inbox.get(id=m.id).is_read is True

    # an attachment added and fetched
    m.attach(FileAttachment(name="map.txt", content=b"north, then left"))
    again = acct.inbox.get(id=m.id)
    (att,) = again.attachments
    assert att.name == "map.txt" and att.content == b"north, then left"

    # changes made by SMTP and IMAP reach the sync
    with smtplib.SMTP("127.0.0.1", hermod.port("smtp")) as s:
        s.sendmail("dave@elsewhere.test", [ALICE[0]],
                   f"From: dave@elsewhere.test\r\nTo: {ALICE[0]}\r\nSubject: From outside\r\n"
                   "\r\nhello\r\n".encode())
    seen = {}
    for kind, item in acct.inbox.sync_items():
        seen.setdefault(kind, []).append(item)
    created = sorted(i.subject for i in seen["create"])
    assert created == ["From outside", "Plans for the offsite", "Plans, second thoughts"]
    im = imaplib.IMAP4("127.0.0.1", hermod.port("imap"))
    im.login(*ALICE)
    im.select("INBOX")
    typ, data = im.search(None, "SUBJECT", '"From outside"')
    im.store(data[0].split()[0], "+FLAGS", "\\Seen")
    im.logout()
    changes = list(acct.inbox.sync_items())
    assert [(k, v[1]) for k, v in changes] == [("read_flag_change", True)]

    # moved, then deleted
    dest = acct.inbox / "Receipts 2024"
    m = acct.inbox.get(subject="Plans, second thoughts")
    m.move(dest)
    assert [i.subject for i in dest.all()] == ["Plans, second thoughts"]
    m.delete()
    assert dest.all().count() == 0
    kinds = sorted(k for k, _ in acct.inbox.sync_items())
    assert kinds == ["delete"]
    dest.delete()
    assert [c.name for c in acct.inbox.children] == []

    # the address book
    (mb,) = acct.protocol.resolve_names(["bob@example.test"])
    assert mb.name == "Bob Builder"
    assert sorted(x.email_address for x in acct.protocol.expand_dl("crew@example.test")) == \
        [ALICE[0], BOB[0]]
