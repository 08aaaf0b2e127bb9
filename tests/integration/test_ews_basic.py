"""EWS through the real server: the SOAP envelope (versions, impersonation,
faults), GetFolder, FindFolder, ConvertId, and bad input of every kind -
malformed XML, unknown operations, wrong namespaces, forged ids and ids of
another mailbox, oversized requests, wrong credentials, XXE and billion
laughs. Every response is also validated against Microsoft's schemas when
the server stops (conftest.py, ewsschema.py)."""
import base64

from lxml import etree

from ewsutil import (ALICE, BOB, NS, PATH, SOAP, T, account, account_autodiscover,
                     add_users, call, code, dist, envelope, fault_code, fid, get_folder,
                     messages, post)
from httputil import request


def folder_id_of(hermod, name, auth=ALICE):
    resp = get_folder(hermod, dist(name), auth=auth)
    (msg,) = messages(resp)
    assert code(msg) == "NoError", etree.tostring(msg)
    f = msg.find("m:Folders", NS)[0].find("t:FolderId", NS)
    return f.get("Id"), f.get("ChangeKey")


def test_get_folder_distinguished_and_by_id(hermod):
    add_users(hermod)
    resp = get_folder(hermod, dist("inbox") + dist("msgfolderroot") + dist("root") +
                      dist("calendar") + dist("contacts") + dist("nosuchname"),
                      base="AllProperties")
    msgs = messages(resp)
    assert [code(m) for m in msgs] == ["NoError"] * 5 + ["ErrorFolderNotFound"]
    assert msgs[5].get("ResponseClass") == "Error"
    inbox = msgs[0].find("m:Folders/t:Folder", NS)
    assert inbox.findtext("t:DisplayName", namespaces=NS) == "Inbox"
    assert inbox.findtext("t:FolderClass", namespaces=NS) == "IPF.Note"
    assert inbox.findtext("t:TotalCount", namespaces=NS) == "0"
    assert inbox.findtext("t:UnreadCount", namespaces=NS) == "0"
    # the Inbox's parent is the IPM subtree
    root_id = msgs[1].find("m:Folders/t:Folder/t:FolderId", NS).get("Id")
    assert inbox.find("t:ParentFolderId", NS).get("Id") == root_id
    assert msgs[3].find("m:Folders/t:CalendarFolder", NS) is not None
    assert msgs[4].find("m:Folders/t:ContactsFolder", NS) is not None
    # by id, with IdOnly: nothing but the id
    fid_, ck = folder_id_of(hermod, "inbox")
    assert ck
    resp = get_folder(hermod, fid(fid_, ck), base="IdOnly")
    (msg,) = messages(resp)
    f = msg.find("m:Folders/t:Folder", NS)
    assert [c.tag.split("}")[1] for c in f] == ["FolderId"]
    assert f.find("t:FolderId", NS).get("Id") == fid_
    # IdOnly plus additional properties
    resp = get_folder(hermod, fid(fid_), base="IdOnly",
                      extra=("folder:DisplayName", "folder:ChildFolderCount"))
    f = messages(resp)[0].find("m:Folders/t:Folder", NS)
    assert [c.tag.split("}")[1] for c in f] == ["FolderId", "DisplayName", "ChildFolderCount"]


def test_find_folder_paging(hermod):
    add_users(hermod)

    def find(parent, traversal="Shallow", view=""):
        resp = call(hermod, f'<m:FindFolder Traversal="{traversal}">'
                    '<m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape>'
                    f"{view}<m:ParentFolderIds>{parent}</m:ParentFolderIds></m:FindFolder>")
        (msg,) = messages(resp)
        assert code(msg) == "NoError", etree.tostring(msg)
        rf = msg.find("m:RootFolder", NS)
        names = [f.findtext("t:DisplayName", namespaces=NS) for f in rf.find("t:Folders", NS)]
        return rf, names

    rf, names = find(dist("msgfolderroot"))
    assert "Inbox" in names and "Sent Items" in names and "Conflicts" not in names
    total = int(rf.get("TotalItemsInView"))
    assert total == len(names) and rf.get("IncludesLastItemInRange") == "true"
    rf, deep = find(dist("msgfolderroot"), "Deep")
    assert "Conflicts" in deep and int(rf.get("TotalItemsInView")) > total
    # pages of 3 from the beginning cover the whole list in order
    seen, offset = [], 0
    while True:
        rf, page = find(dist("msgfolderroot"), view='<m:IndexedPageFolderView '
                        f'MaxEntriesReturned="3" Offset="{offset}" BasePoint="Beginning"/>')
        seen += page
        assert len(page) <= 3
        offset = int(rf.get("IndexedPagingOffset"))
        if rf.get("IncludesLastItemInRange") == "true":
            break
    assert seen == names
    # from the end
    rf, page = find(dist("msgfolderroot"), view='<m:IndexedPageFolderView '
                    'MaxEntriesReturned="2" Offset="0" BasePoint="End"/>')
    assert page == names[-2:]
    # an offset past the end: nothing, and the last item is in range
    rf, page = find(dist("msgfolderroot"), view='<m:IndexedPageFolderView '
                    'MaxEntriesReturned="2" Offset="1000" BasePoint="Beginning"/>')
    assert page == [] and rf.get("IncludesLastItemInRange") == "true"
    # bad traversal
    resp = call(hermod, '<m:FindFolder Traversal="Sideways"><m:FolderShape><t:BaseShape>'
                'Default</t:BaseShape></m:FolderShape><m:ParentFolderIds>'
                f'{dist("inbox")}</m:ParentFolderIds></m:FindFolder>')
    assert code(messages(resp)[0]) == "ErrorInvalidRequest"


def test_convert_id(hermod):
    add_users(hermod)
    ews_id, _ = folder_id_of(hermod, "inbox")

    def convert(ident, src, dst):
        resp = call(hermod, f'<m:ConvertId DestinationFormat="{dst}"><m:SourceIds>'
                    f'<t:AlternateId Format="{src}" Id="{ident}" Mailbox="{ALICE[0]}"/>'
                    "</m:SourceIds></m:ConvertId>")
        (msg,) = messages(resp)
        return code(msg), msg.find("m:AlternateId", NS)

    c, alt = convert(ews_id, "EwsId", "EntryId")
    assert c == "NoError"
    entry = base64.b64decode(alt.get("Id"))
    assert len(entry) == 46 and entry[:4] == b"\0\0\0\0"  # MS-OXCDATA 2.2.4.1
    c, alt = convert(alt.get("Id"), "EntryId", "HexEntryId")
    assert c == "NoError" and bytes.fromhex(alt.get("Id")) == entry
    c, alt = convert(alt.get("Id"), "HexEntryId", "EwsId")
    assert c == "NoError" and alt.get("Id") == ews_id
    # malformed and forged
    assert convert("!!!", "EwsId", "EntryId")[0] == "ErrorInvalidIdMalformed"
    assert convert("00ff", "HexEntryId", "EwsId")[0] == "ErrorInvalidIdMalformed"
    assert convert(ews_id, "NoSuchFormat", "EntryId")[0] == "ErrorInvalidIdMalformed"
    raw = bytearray(base64.b64decode(ews_id))
    raw[-3] ^= 0x55  # a FID nobody has
    assert convert(base64.b64encode(raw).decode(), "EwsId", "EntryId")[0] == \
        "ErrorFolderNotFound"


def test_other_mailbox_and_forged_ids(hermod):
    add_users(hermod)
    bob_inbox, bob_ck = folder_id_of(hermod, "inbox", auth=BOB)
    alice_inbox, _ = folder_id_of(hermod, "inbox")
    assert bob_inbox != alice_inbox
    # Bob's folder id in Alice's requests: refused, nothing of Bob's shown
    resp = get_folder(hermod, fid(bob_inbox) + fid(alice_inbox))
    msgs = messages(resp)
    assert [code(m) for m in msgs] == ["ErrorAccessDenied", "NoError"]
    assert bob_inbox.encode() not in etree.tostring(resp)
    # Bob's mailbox by address in a DistinguishedFolderId
    resp = get_folder(hermod, '<t:DistinguishedFolderId Id="inbox"><t:Mailbox>'
                      f"<t:EmailAddress>{BOB[0]}</t:EmailAddress></t:Mailbox>"
                      "</t:DistinguishedFolderId>")
    assert code(messages(resp)[0]) == "ErrorAccessDenied"
    # a Bob id re-labelled as Alice's: a FID that is not Alice's folder, or
    # if it happens to be, Alice's own folder - never Bob's data
    raw = bytearray(base64.b64decode(bob_inbox))
    alice_raw = base64.b64decode(alice_inbox)
    raw[2:18] = alice_raw[2:18]
    resp = get_folder(hermod, fid(base64.b64encode(raw).decode()))
    assert code(messages(resp)[0]) in ("ErrorFolderNotFound", "NoError")
    # malformed ids of every kind
    for bad in ("", "x", "AAAA", base64.b64encode(b"\x01F" + b"\0" * 10).decode(),
                base64.b64encode(b"\x02F" + alice_raw[2:]).decode(),  # wrong version
                base64.b64encode(b"\x01Z" + alice_raw[2:]).decode(),  # wrong kind
                "A" * 5000):
        resp = get_folder(hermod, fid(bad))
        assert code(messages(resp)[0]) == "ErrorInvalidIdMalformed", bad
    # an item id where a folder id belongs
    item = base64.b64encode(b"\x01M" + alice_raw[2:] + b"\x01\0\0\0\0\0\0\x10").decode()
    assert code(messages(get_folder(hermod, fid(item)))[0]) == "ErrorInvalidIdMalformed"


def test_envelope_versions_and_impersonation(hermod):
    add_users(hermod)
    for version in ("Exchange2007_SP1", "Exchange2010_SP2", "Exchange2013", "Exchange2016"):
        st, _, data = post(hermod, envelope(f"<m:GetFolder>{'<m:FolderShape><t:BaseShape>IdOnly'}"
                                            "</t:BaseShape></m:FolderShape><m:FolderIds>"
                                            f"{dist('inbox')}</m:FolderIds></m:GetFolder>",
                                            version=version))
        assert st == 200
        svi = etree.fromstring(data).find(f"{{{SOAP}}}Header/{{{T}}}ServerVersionInfo")
        assert svi.get("MajorVersion") == "15" and svi.get("Version") == version
    # no RequestServerVersion: Exchange2007 answers
    st, _, data = post(hermod, envelope(
        "<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>"
        f"<m:FolderIds>{dist('inbox')}</m:FolderIds></m:GetFolder>", version=None))
    assert st == 200 and b'Version="Exchange2007"' in data
    # an unknown version: a fault
    resp = call(hermod, "<m:GetFolder/>", version="Exchange2099", status=500)
    assert fault_code(resp) == "ErrorInvalidServerVersion"
    # impersonating oneself is fine; anybody else is denied
    body = ("<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>"
            f"<m:FolderIds>{dist('inbox')}</m:FolderIds></m:GetFolder>")

    def imp(who):
        return ("<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>"
                f"{who}</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>")
    resp = call(hermod, body, header=imp(ALICE[0]))
    assert code(messages(resp)[0]) == "NoError"
    resp = call(hermod, body, header=imp(BOB[0]), status=500)
    assert fault_code(resp) == "ErrorImpersonationDenied"
    resp = call(hermod, body, header=imp("nobody@example.test"), status=500)
    assert fault_code(resp) == "ErrorImpersonationDenied"


def test_bad_requests(hermod):
    add_users(hermod)

    def fault(data, status=500):
        st, _, body = post(hermod, data)
        assert st == status, (st, body)
        return fault_code(etree.fromstring(body).find(f"{{{SOAP}}}Body")[0])

    assert fault("<s:Envelope") == "ErrorSchemaValidation"
    assert fault("not xml at all") == "ErrorSchemaValidation"
    assert fault("") == "ErrorSchemaValidation"
    assert fault(f'<x xmlns="{SOAP}"/>') == "ErrorSchemaValidation"
    # SOAP 1.2 envelope namespace: not ours
    assert fault(envelope("<m:GetFolder/>").replace(SOAP, "http://www.w3.org/2003/05/soap-envelope")) \
        == "ErrorSchemaValidation"
    # an empty body
    assert fault(envelope("")) == "ErrorSchemaValidation"
    # an unknown operation, and a known one in the wrong namespace
    assert fault(envelope("<m:LaunchRockets/>")) == "ErrorInvalidRequest"
    assert fault(envelope('<GetFolder xmlns="urn:wrong"/>')) == "ErrorInvalidRequest"
    assert fault(envelope('<t:GetFolder/>')) == "ErrorInvalidRequest"
    # deep nesting
    assert fault(envelope("<m:GetFolder>" + "<t:x>" * 500 + "</t:x>" * 500 +
                          "</m:GetFolder>")) == "ErrorSchemaValidation"
    # XXE: the DTD is refused before anything is read
    xxe = ('<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           + envelope(f'<m:ConvertId DestinationFormat="EntryId"><m:SourceIds><t:AlternateId '
                      f'Format="EwsId" Id="&x;" Mailbox="a"/></m:SourceIds></m:ConvertId>')
           .split("?>", 1)[1])
    st, _, body = post(hermod, xxe)
    assert st == 500 and b"root:" not in body
    assert fault_code(etree.fromstring(body).find(f"{{{SOAP}}}Body")[0]) == \
        "ErrorSchemaValidation"
    # billion laughs
    lol = '<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">'
    for i in range(1, 10):
        lol += f'<!ENTITY a{i} "' + f"&a{i - 1 if i > 1 else ''};" * 10 + '">'
    assert fault(f'<?xml version="1.0"?><!DOCTYPE r [{lol}]><r>&a9;</r>') == \
        "ErrorSchemaValidation"
    # the server is still there and answers correctly
    assert code(messages(get_folder(hermod, dist("inbox")))[0]) == "NoError"


def test_http_level_errors(hermod_factory):
    h = hermod_factory({"ews": {"max_request_size": "64k"}})
    add_users(h)
    body = envelope("<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape>"
                    f"</m:FolderShape><m:FolderIds>{dist('inbox')}</m:FolderIds></m:GetFolder>")
    # no credentials, wrong ones, a user that does not exist: 401
    for auth in (None, ("alice@example.test", "wrong"), ("ghost@example.test", "x"),
                 "Basic !!!", "Bearer abc"):
        st, hdrs, _ = post(h, body, auth=auth)
        assert st == 401, auth
        assert "Basic" in hdrs["www-authenticate"]
    # oversized: 413 before the body is read
    st, _, _ = post(h, body.replace("</s:Body>", "<!--" + "x" * 70000 + "--></s:Body>"))
    assert st == 413
    # other methods
    st, hdrs, _ = request(h, "GET", PATH, auth=ALICE)
    assert st == 405 and hdrs["allow"] == "POST"
    # a comment is fine, and the path is case-insensitive
    st, _, data = request(h, "POST", PATH.upper(), body.replace("<s:Body>", "<s:Body><!--c-->"),
                          {"Content-Type": "text/xml"}, auth=ALICE)
    assert st == 200 and b"NoError" in data


def test_exchangelib_folder_tree(hermod):
    add_users(hermod)
    acct = account(hermod)
    assert acct.inbox.name == "Inbox" and acct.inbox.total_count == 0
    tree = acct.root.tree()
    for name in ("Top of Information Store", "Inbox", "Sent Items", "Deleted Items",
                 "Drafts", "Calendar", "Contacts", "Sync Issues", "Conflicts"):
        assert name in tree, tree
    names = {f.name for f in acct.msg_folder_root.walk()}
    assert {"Inbox", "Outbox", "Junk Email", "Tasks", "Notes"} <= names
    # Bob's tree is his own
    acct_b = account(hermod, BOB, tls=False)
    assert acct_b.inbox.id != acct.inbox.id


def test_exchangelib_version_guess(hermod):
    add_users(hermod)
    acct = account(hermod, version=False)
    assert acct.inbox.name == "Inbox"
    assert acct.version.build.major_version == 15


def test_exchangelib_autodiscover(hermod):
    add_users(hermod)
    acct = account_autodiscover(hermod)
    assert acct.protocol.service_endpoint.lower().endswith(PATH.lower())
    assert acct.ad_response.autodiscover_smtp_address == ALICE[0]
    assert acct.inbox.name == "Inbox"
    assert "Sent Items" in acct.root.tree()
