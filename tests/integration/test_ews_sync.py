"""EWS synchronisation (MS-OXWSSYNC) through the real server: SyncFolderItems
and SyncFolderHierarchy from the store's change tracking, across changes
made through EWS and IMAP, MaxChangesReturned and IncludesLastItemInRange,
Ignore, and sync states that are not ours - raw SOAP for exact answers and
exchangelib as the real client."""
import base64
import imaplib

from lxml import etree

from ewsutil import (ALICE, BOB, NS, account, add_users, call, code, dist, folder_shape,
                     messages)
from test_ews_items import create, iid, item_id, message


def sync_items(hermod, folder, state=None, max_changes=100, shape="IdOnly", extra="",
               ignore=(), auth=ALICE):
    st = f"<m:SyncState>{state}</m:SyncState>" if state is not None else ""
    ign = ""
    if ignore:
        ign = "<m:Ignore>" + "".join(iid(i) for i in ignore) + "</m:Ignore>"
    resp = call(hermod, f"<m:SyncFolderItems><m:ItemShape><t:BaseShape>{shape}</t:BaseShape>"
                f"</m:ItemShape><m:SyncFolderId>{folder}</m:SyncFolderId>{st}{ign}"
                f"<m:MaxChangesReturned>{max_changes}</m:MaxChangesReturned>{extra}"
                "</m:SyncFolderItems>", auth=auth)
    (msg,) = messages(resp)
    return msg


def changes(msg):
    """[(kind, item id, subject or IsRead)], the new state, last-in-range."""
    assert code(msg) == "NoError", etree.tostring(msg)
    out = []
    for c in msg.find("m:Changes", NS):
        kind = c.tag.split("}")[1]
        if kind in ("Create", "Update"):
            item = c[0]
            out.append((kind, item.find("t:ItemId", NS).get("Id"),
                        item.findtext("t:Subject", namespaces=NS)))
        elif kind == "Delete":
            out.append((kind, c.find("t:ItemId", NS).get("Id"), None))
        else:
            assert kind == "ReadFlagChange"
            out.append((kind, c.find("t:ItemId", NS).get("Id"),
                        c.findtext("t:IsRead", namespaces=NS)))
    last = msg.findtext("m:IncludesLastItemInRange", namespaces=NS)
    return out, msg.findtext("m:SyncState", namespaces=NS), last == "true"


def update(hermod, ident, ck, field, value_xml):
    resp = call(hermod, '<m:UpdateItem ConflictResolution="AlwaysOverwrite" '
                'MessageDisposition="SaveOnly"><m:ItemChanges><t:ItemChange>'
                f"{iid(ident, ck)}<t:Updates><t:SetItemField><t:FieldURI FieldURI=\"{field}\"/>"
                f"<t:Message>{value_xml}</t:Message></t:SetItemField></t:Updates>"
                "</t:ItemChange></m:ItemChanges></m:UpdateItem>")
    (msg,) = messages(resp)
    assert code(msg) == "NoError", etree.tostring(msg)


def test_sync_items_raw(hermod):
    add_users(hermod)
    inbox = dist("inbox")
    got, state0, last = changes(sync_items(hermod, inbox))
    assert got == [] and last and state0
    # three new items: three creates, in the order they were made
    ids = [item_id(m)[0] for m in create(
        hermod, message("one") + message("two") + message("three"), folder=inbox)]
    got, state1, last = changes(sync_items(hermod, inbox, state0, shape="Default"))
    assert got == [("Create", ids[0], "one"), ("Create", ids[1], "two"),
                   ("Create", ids[2], "three")] and last
    # nothing since
    got, same, last = changes(sync_items(hermod, inbox, state1))
    assert got == [] and last
    # MaxChangesReturned pages the changes; IncludesLastItemInRange says when done
    got, s, last = changes(sync_items(hermod, inbox, state0, max_changes=2))
    assert [g[1] for g in got] == ids[:2] and not last
    got, s, last = changes(sync_items(hermod, inbox, s, max_changes=2))
    assert [g[1] for g in got] == ids[2:] and last
    # an update, a read-state change and a deletion
    upd = call(hermod, "<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>"
               f"</m:ItemShape><m:ItemIds>{iid(ids[0])}</m:ItemIds></m:GetItem>")
    ck = messages(upd)[0].find("m:Items", NS)[0].find("t:ItemId", NS).get("ChangeKey")
    update(hermod, ids[0], ck, "item:Subject", "<t:Subject>one, edited</t:Subject>")
    update(hermod, ids[1], None, "message:IsRead", "<t:IsRead>false</t:IsRead>")
    resp = call(hermod, '<m:DeleteItem DeleteType="HardDelete"><m:ItemIds>'
                f"{iid(ids[2])}</m:ItemIds></m:DeleteItem>")
    assert code(messages(resp)[0]) == "NoError"
    got, state2, last = changes(sync_items(hermod, inbox, state1, shape="Default"))
    assert got == [("Update", ids[0], "one, edited"), ("ReadFlagChange", ids[1], "false"),
                   ("Delete", ids[2], None)], got
    assert last
    # Ignore leaves out what the client changed itself
    got, _, _ = changes(sync_items(hermod, inbox, state1, ignore=[ids[0], ids[2]]))
    assert [(g[0], g[1]) for g in got] == [("ReadFlagChange", ids[1])]
    # an initial sync shows what is there now, all as creates
    got, _, _ = changes(sync_items(hermod, inbox))
    assert sorted((g[0], g[1]) for g in got) == sorted([("Create", ids[0]), ("Create", ids[1])])


def test_sync_items_bad_input(hermod):
    add_users(hermod)
    inbox = dist("inbox")
    _, state, _ = changes(sync_items(hermod, inbox))
    # a state of another folder, of another mailbox, or of the hierarchy
    msg = sync_items(hermod, dist("drafts"), state)
    assert code(msg) == "ErrorInvalidSyncStateData"
    _, bob_state, _ = changes(sync_items(hermod, inbox, auth=BOB))
    assert code(sync_items(hermod, inbox, bob_state)) == "ErrorInvalidSyncStateData"
    h = call(hermod, f"<m:SyncFolderHierarchy>{folder_shape('IdOnly')}</m:SyncFolderHierarchy>")
    hstate = messages(h)[0].findtext("m:SyncState", namespaces=NS)
    assert code(sync_items(hermod, inbox, hstate)) == "ErrorInvalidSyncStateData"
    # forged and malformed states
    raw = bytearray(base64.b64decode(state))
    for bad in (b"", b"x" * 10, bytes(raw[:-1]), bytes([2]) + bytes(raw[1:]),
                bytes(raw[:2]) + b"Q" + bytes(raw[3:])):
        text = base64.b64encode(bad).decode() or "@@"
        assert code(sync_items(hermod, inbox, text)) == "ErrorInvalidSyncStateData", bad
    assert code(sync_items(hermod, inbox, "not base64 at all!")) == "ErrorInvalidSyncStateData"
    # MaxChangesReturned must be 1..512
    for n in ("0", "513", "-1", "many"):
        assert code(sync_items(hermod, inbox, max_changes=n)) == "ErrorInvalidArgument", n
    assert code(sync_items(hermod, inbox, max_changes=512)) == "NoError"
    # a folder that is not there, a bad scope, a malformed ignored id
    mine = call(hermod, f"<m:GetFolder>{folder_shape('IdOnly')}<m:FolderIds>{inbox}"
                "</m:FolderIds></m:GetFolder>")
    raw = bytearray(base64.b64decode(
        messages(mine)[0].find("m:Folders", NS)[0].find("t:FolderId", NS).get("Id")))
    raw[18:26] = (0x0001_7fff_ffff_0001).to_bytes(8, "little")
    gone = f'<t:FolderId Id="{base64.b64encode(bytes(raw)).decode()}"/>'
    assert code(sync_items(hermod, gone)) == "ErrorSyncFolderNotFound"
    assert code(sync_items(hermod, inbox, extra="<m:SyncScope>Everything</m:SyncScope>")) == \
        "ErrorInvalidRequest"
    assert code(sync_items(hermod, inbox, ignore=["bogus"])) == "ErrorInvalidIdMalformed"
    # another user's folder by id is refused
    bob_inbox = call(hermod, f"<m:GetFolder>{folder_shape('IdOnly')}<m:FolderIds>{inbox}"
                     "</m:FolderIds></m:GetFolder>", auth=BOB)
    bob_fid = messages(bob_inbox)[0].find("m:Folders", NS)[0].find("t:FolderId", NS).get("Id")
    assert code(sync_items(hermod, f'<t:FolderId Id="{bob_fid}"/>')) == "ErrorAccessDenied"


def test_sync_items_across_imap(hermod):
    """Changes made over IMAP (APPEND, \\Seen, EXPUNGE) reach an EWS sync."""
    add_users(hermod)
    inbox = dist("inbox")
    _, state, _ = changes(sync_items(hermod, inbox))
    m = imaplib.IMAP4("127.0.0.1", hermod.port("imap"))
    m.login(*ALICE)
    for s in ("from imap 1", "from imap 2"):
        m.append("INBOX", None, None, (f"From: x@elsewhere.test\r\nTo: {ALICE[0]}\r\n"
                                       f"Subject: {s}\r\n\r\nbody\r\n").encode())
    got, state2, last = changes(sync_items(hermod, inbox, state, shape="Default"))
    assert [(g[0], g[2]) for g in got] == [("Create", "from imap 1"), ("Create", "from imap 2")]
    ids = [g[1] for g in got]
    # and it reads through EWS as IMAP stored it
    item = messages(call(hermod, "<m:GetItem><m:ItemShape><t:BaseShape>Default</t:BaseShape>"
                         "<t:BodyType>Text</t:BodyType></m:ItemShape>"
                         f"<m:ItemIds>{iid(ids[0])}</m:ItemIds></m:GetItem>"))[0]
    item = item.find("m:Items", NS)[0]
    assert item.findtext("t:Subject", namespaces=NS) == "from imap 1"
    assert item.findtext("t:Body", namespaces=NS).strip() == "body"
    assert item.findtext("t:From/t:Mailbox/t:EmailAddress", namespaces=NS) == "x@elsewhere.test"
    m.select("INBOX")
    m.store("1", "+FLAGS", "\\Seen")
    m.store("2", "+FLAGS", "\\Deleted")
    m.expunge()
    m.logout()
    got, _, last = changes(sync_items(hermod, inbox, state2))
    assert got == [("ReadFlagChange", ids[0], "true"), ("Delete", ids[1], None)], got
    assert last


def hierarchy(hermod, state=None, folder=None, base="Default"):
    st = f"<m:SyncState>{state}</m:SyncState>" if state else ""
    fo = f"<m:SyncFolderId>{folder}</m:SyncFolderId>" if folder else ""
    (msg,) = messages(call(hermod, f"<m:SyncFolderHierarchy>{folder_shape(base)}{fo}{st}"
                           "</m:SyncFolderHierarchy>"))
    assert code(msg) == "NoError", etree.tostring(msg)
    assert msg.findtext("m:IncludesLastFolderInRange", namespaces=NS) == "true"
    out = []
    for c in msg.find("m:Changes", NS):
        kind = c.tag.split("}")[1]
        if kind == "Delete":
            out.append((kind, c.find("t:FolderId", NS).get("Id"), None))
        else:
            f = c[0]
            out.append((kind, f.find("t:FolderId", NS).get("Id"),
                        f.findtext("t:DisplayName", namespaces=NS)))
    return out, msg.findtext("m:SyncState", namespaces=NS)


def test_sync_hierarchy_raw(hermod):
    add_users(hermod)
    got, state = hierarchy(hermod)
    names = [g[2] for g in got]
    assert all(g[0] == "Create" for g in got)
    assert "Inbox" in names and "Sent Items" in names and "Top of Information Store" in names
    got, state2 = hierarchy(hermod, state)
    assert got == []
    # create, rename and delete folders; only below the folder synced
    resp = call(hermod, f"<m:CreateFolder><m:ParentFolderId>{dist('inbox')}</m:ParentFolderId>"
                "<m:Folders><t:Folder><t:DisplayName>Projects</t:DisplayName></t:Folder>"
                "<t:Folder><t:DisplayName>Old</t:DisplayName></t:Folder></m:Folders>"
                "</m:CreateFolder>")
    fids = [m.find("m:Folders", NS)[0].find("t:FolderId", NS).get("Id") for m in messages(resp)]
    got, state3 = hierarchy(hermod, state2)
    assert [(g[0], g[1], g[2]) for g in got] == [("Create", fids[0], "Projects"),
                                                  ("Create", fids[1], "Old")]
    call(hermod, '<m:UpdateFolder><m:FolderChanges><t:FolderChange>'
         f'<t:FolderId Id="{fids[0]}"/><t:Updates><t:SetFolderField>'
         '<t:FieldURI FieldURI="folder:DisplayName"/><t:Folder><t:DisplayName>Projects 2024'
         "</t:DisplayName></t:Folder></t:SetFolderField></t:Updates></t:FolderChange>"
         "</m:FolderChanges></m:UpdateFolder>")
    call(hermod, f'<m:DeleteFolder DeleteType="HardDelete"><m:FolderIds><t:FolderId '
         f'Id="{fids[1]}"/></m:FolderIds></m:DeleteFolder>')
    got, state4 = hierarchy(hermod, state3)
    assert got == [("Update", fids[0], "Projects 2024"), ("Delete", fids[1], None)], got
    # synced from Drafts: Inbox's subfolders are not there
    got, _ = hierarchy(hermod, folder=dist("drafts"))
    assert got == []
    got, _ = hierarchy(hermod, folder=dist("inbox"))
    assert [g[2] for g in got] == ["Projects 2024"]


def test_sync_exchangelib(hermod):
    add_users(hermod)
    from exchangelib import Message
    acct = account(hermod)
    inbox = acct.inbox
    assert list(inbox.sync_items()) == []
    state = inbox.item_sync_state
    assert state
    made = []
    for i in range(5):
        m = Message(account=acct, folder=inbox, subject=f"sync {i}", body="b")
        m.save()
        made.append(m)
    seen = []
    while True:
        batch = list(inbox.sync_items(max_changes_returned=2))
        seen += batch
        if len(batch) < 2:
            break
    assert [(c, i.subject) for c, i in seen] == [("create", f"sync {i}") for i in range(5)]
    assert made[0].is_read is False  # as exchangelib created it
    made[0].is_read = True
    made[0].save(update_fields=["is_read"])
    made[1].subject = "sync 1 renamed"
    made[1].save(update_fields=["subject"])
    gone_id = made[2].id
    made[2].delete()
    got = list(inbox.sync_items())
    kinds = [c for c, _ in got]
    assert kinds == ["read_flag_change", "update", "delete"], got
    assert got[0][1][0].id == made[0].id and got[0][1][1] is True
    assert got[1][1].subject == "sync 1 renamed"
    assert got[2][1].id == gone_id
    # the folder tree
    root = acct.msg_folder_root
    names = [f.name for c, f in root.sync_hierarchy()]
    assert "Inbox" in names and "Drafts" in names
    from exchangelib import Folder
    sub = Folder(parent=inbox, name="From exchangelib")
    sub.save()
    got = list(root.sync_hierarchy())
    assert [(c, f.name) for c, f in got] == [("create", "From exchangelib")]
