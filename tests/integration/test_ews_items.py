"""EWS items through the real server: CreateItem (SaveOnly, MimeContent),
GetItem with shapes and bodies, FindItem with restrictions, sort orders and
paging, UpdateItem with change keys, DeleteItem, MoveItem, CopyItem,
MarkAllItemsAsRead (MS-OXWSCORE, MS-OXWSMSG, MS-OXWSSRCH) - raw SOAP for
exact answers and exchangelib as the real client."""
import base64
import email

from lxml import etree

from ewsutil import (ALICE, BOB, NS, account, add_users, call, code, dist, fault_code,
                     messages)

DELIVERY = '<t:ExtendedFieldURI PropertyTag="0x0e06" PropertyType="SystemTime"/>'


def create(hermod, items, disposition="SaveOnly", folder=None, auth=ALICE):
    saved = f"<m:SavedItemFolderId>{folder}</m:SavedItemFolderId>" if folder else ""
    resp = call(hermod, f'<m:CreateItem MessageDisposition="{disposition}">{saved}'
                f"<m:Items>{items}</m:Items></m:CreateItem>", auth=auth)
    return messages(resp)


def item_id(msg):
    assert code(msg) == "NoError", etree.tostring(msg)
    i = msg.find("m:Items", NS)[0].find("t:ItemId", NS)
    return i.get("Id"), i.get("ChangeKey")


def iid(ident, ck=None):
    c = f' ChangeKey="{ck}"' if ck else ""
    return f'<t:ItemId Id="{ident}"{c}/>'


def get(hermod, ids, base="AllProperties", body_type=None, extra=(), mime=False, auth=ALICE):
    bt = f"<t:BodyType>{body_type}</t:BodyType>" if body_type else ""
    mc = "<t:IncludeMimeContent>true</t:IncludeMimeContent>" if mime else ""
    add = "".join(extra)
    add = f"<t:AdditionalProperties>{add}</t:AdditionalProperties>" if add else ""
    resp = call(hermod, f"<m:GetItem><m:ItemShape><t:BaseShape>{base}</t:BaseShape>{mc}{bt}{add}"
                f"</m:ItemShape><m:ItemIds>{ids}</m:ItemIds></m:GetItem>", auth=auth)
    return messages(resp)


def the_item(msg):
    assert code(msg) == "NoError", etree.tostring(msg)
    return msg.find("m:Items", NS)[0]


def text(el, path):
    return el.findtext(path, namespaces=NS)


def message(subject, body="hello", body_type="Text", to=(), cc=(), extra=""):
    rcpt = ""
    if to:
        rcpt += "<t:ToRecipients>" + "".join(
            f"<t:Mailbox><t:EmailAddress>{a}</t:EmailAddress></t:Mailbox>" for a in to) + \
            "</t:ToRecipients>"
    if cc:
        rcpt += "<t:CcRecipients>" + "".join(
            f"<t:Mailbox><t:EmailAddress>{a}</t:EmailAddress></t:Mailbox>" for a in cc) + \
            "</t:CcRecipients>"
    body = body.replace("&", "&amp;").replace("<", "&lt;")
    return (f"<t:Message><t:Subject>{subject}</t:Subject>"
            f'<t:Body BodyType="{body_type}">{body}</t:Body>{extra}{rcpt}</t:Message>')


def test_create_and_get(hermod):
    add_users(hermod)
    msgs = create(hermod, message(
        "Quarterly report", "<html><body><p>Numbers <b>up</b> &amp; right</p></body></html>",
        "HTML", to=[BOB[0]], cc=["carol@elsewhere.test"],
        extra="<t:Categories><t:String>Work</t:String><t:String>Q3</t:String></t:Categories>"
              "<t:Importance>High</t:Importance>"
              '<t:ExtendedProperty><t:ExtendedFieldURI DistinguishedPropertySetId="PublicStrings"'
              ' PropertyName="hermod-x" PropertyType="Integer"/><t:Value>42</t:Value>'
              "</t:ExtendedProperty>"))
    ident, ck = item_id(msgs[0])
    assert ck
    item = the_item(get(hermod, iid(ident), body_type="Text", extra=[
        '<t:ExtendedFieldURI DistinguishedPropertySetId="PublicStrings" PropertyName='
        '"hermod-x" PropertyType="Integer"/>'])[0])
    assert item.tag.endswith("}Message")
    assert text(item, "t:Subject") == "Quarterly report"
    assert text(item, "t:ItemClass") == "IPM.Note"
    assert text(item, "t:Importance") == "High"
    assert [s.text for s in item.findall("t:Categories/t:String", NS)] == ["Work", "Q3"]
    assert text(item, "t:IsDraft") == "true" and text(item, "t:IsRead") == "true"
    assert text(item, "t:HasAttachments") == "false"
    assert text(item, "t:DisplayTo") == "Bob Builder"
    body = item.find("t:Body", NS)
    assert body.get("BodyType") == "Text" and "Numbers up & right" in body.text
    to = item.findall("t:ToRecipients/t:Mailbox", NS)
    assert [text(m, "t:EmailAddress") for m in to] == [BOB[0]]
    assert text(to[0], "t:Name") == "Bob Builder"
    assert text(item, "t:CcRecipients/t:Mailbox/t:EmailAddress") == "carol@elsewhere.test"
    assert text(item, "t:ExtendedProperty/t:Value") == "42"
    assert item.find("t:ParentFolderId", NS) is not None
    # HTML asked: the HTML as written
    item = the_item(get(hermod, iid(ident), body_type="HTML")[0])
    assert item.find("t:Body", NS).get("BodyType") == "HTML"
    assert "<b>up</b>" in text(item, "t:Body")
    # Best: the native HTML
    item = the_item(get(hermod, iid(ident))[0])
    assert item.find("t:Body", NS).get("BodyType") == "HTML"
    # IdOnly: nothing but the id
    item = the_item(get(hermod, iid(ident), base="IdOnly")[0])
    assert [c.tag.split("}")[1] for c in item] == ["ItemId"]
    # in Drafts by default
    drafts = call(hermod, '<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly'
                  "</t:BaseShape></m:ItemShape><m:ParentFolderIds>"
                  f"{dist('drafts')}</m:ParentFolderIds></m:FindItem>")
    assert messages(drafts)[0].find("m:RootFolder", NS).get("TotalItemsInView") == "1"
    # MIME out
    item = the_item(get(hermod, iid(ident), base="IdOnly", mime=True)[0])
    raw = base64.b64decode(text(item, "t:MimeContent"))
    m = email.message_from_bytes(raw)
    assert m["Subject"] == "Quarterly report"
    assert BOB[0] in m["To"] and "carol@elsewhere.test" in m["Cc"]


def test_mime_in(hermod):
    add_users(hermod)
    mime = (b"From: Dave <dave@elsewhere.test>\r\nTo: Alice <alice@example.test>\r\n"
            b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nDate: Tue, 05 Mar 2024 10:00:00 +0000\r\n"
            b"Message-ID: <m1@elsewhere.test>\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n\r\nPlain body line\r\n")
    b64 = base64.b64encode(mime).decode()
    msgs = create(hermod, f"<t:Message><t:MimeContent>{b64}</t:MimeContent></t:Message>",
                  folder=dist("inbox"))
    ident, _ = item_id(msgs[0])
    item = the_item(get(hermod, iid(ident), mime=True)[0])
    assert text(item, "t:Subject") == "Grüße"
    assert text(item, "t:From/t:Mailbox/t:EmailAddress") == "dave@elsewhere.test"
    assert text(item, "t:From/t:Mailbox/t:Name") == "Dave"
    assert text(item, "t:InternetMessageId") == "<m1@elsewhere.test>"
    assert text(item, "t:DateTimeSent") == "2024-03-05T10:00:00Z"
    assert "Plain body line" in text(item, "t:Body")
    # the MIME given is the MIME served
    assert base64.b64decode(text(item, "t:MimeContent")) == mime
    # bad MIME content
    bad = create(hermod, "<t:Message><t:MimeContent>!!not base64!!</t:MimeContent></t:Message>",
                 folder=dist("inbox"))
    assert code(bad[0]) == "ErrorMimeContentInvalidBase64String"


def find(hermod, parent, restriction="", sort="", view="", base="Default", extra=(),
         traversal="Shallow", auth=ALICE):
    add = "".join(extra)
    add = f"<t:AdditionalProperties>{add}</t:AdditionalProperties>" if add else ""
    r = f"<m:Restriction>{restriction}</m:Restriction>" if restriction else ""
    s = f"<m:SortOrder>{sort}</m:SortOrder>" if sort else ""
    resp = call(hermod, f'<m:FindItem Traversal="{traversal}"><m:ItemShape><t:BaseShape>{base}'
                f"</t:BaseShape>{add}</m:ItemShape>{view}{r}{s}"
                f"<m:ParentFolderIds>{parent}</m:ParentFolderIds></m:FindItem>", auth=auth)
    (msg,) = messages(resp)
    return msg


def found(msg):
    assert code(msg) == "NoError", etree.tostring(msg)
    rf = msg.find("m:RootFolder", NS)
    return rf, [text(i, "t:Subject") for i in rf.find("t:Items", NS)]


def subject_is(s):
    return ('<t:IsEqualTo><t:FieldURI FieldURI="item:Subject"/><t:FieldURIOrConstant>'
            f'<t:Constant Value="{s}"/></t:FieldURIOrConstant></t:IsEqualTo>')


def fill_inbox(hermod, n=30):
    items = ""
    for i in range(n):
        day = 1 + i % 28
        items += message(f"msg {i:02d} {'even' if i % 2 == 0 else 'odd'}", f"body {i}",
                         extra=f"<t:ExtendedProperty>{DELIVERY}"
                               f"<t:Value>2024-01-{day:02d}T{i % 24:02d}:00:00Z</t:Value>"
                               "</t:ExtendedProperty>")
    msgs = create(hermod, items, folder=dist("inbox"))
    return [item_id(m)[0] for m in msgs]


def test_find_item(hermod):
    add_users(hermod)
    ids = fill_inbox(hermod)
    rf, subjects = found(find(hermod, dist("inbox")))
    assert rf.get("TotalItemsInView") == "30" and len(subjects) == 30
    # sorted by date received, newest first
    by_date = ('<t:FieldOrder Order="Descending"><t:FieldURI FieldURI="item:DateTimeReceived"/>'
               "</t:FieldOrder>")
    rf, subjects = found(find(hermod, dist("inbox"), sort=by_date))
    rf2 = rf.find("t:Items", NS)
    dates = [text(i, "t:DateTimeReceived") for i in rf2]
    assert dates == sorted(dates, reverse=True)
    # restriction: odd ones containing "msg 1"
    restr = ('<t:And><t:Contains ContainmentMode="Substring" ContainmentComparison="IgnoreCase">'
             '<t:FieldURI FieldURI="item:Subject"/><t:Constant Value="ODD"/></t:Contains>'
             '<t:Contains ContainmentMode="Prefixed" ContainmentComparison="Exact">'
             '<t:FieldURI FieldURI="item:Subject"/><t:Constant Value="msg 1"/></t:Contains>'
             "</t:And>")
    sort = ('<t:FieldOrder Order="Ascending"><t:FieldURI FieldURI="item:Subject"/>'
            "</t:FieldOrder>")
    rf, subjects = found(find(hermod, dist("inbox"), restr, sort))
    assert subjects == [f"msg {i:02d} odd" for i in (11, 13, 15, 17, 19)]
    assert rf.get("TotalItemsInView") == "5"
    # equality, not, or, comparisons on dates
    rf, subjects = found(find(hermod, dist("inbox"), subject_is("msg 07 odd")))
    assert subjects == ["msg 07 odd"]
    rf, subjects = found(find(hermod, dist("inbox"), "<t:Or>" + subject_is("msg 07 odd") +
                              subject_is("msg 08 even") + "</t:Or>", sort))
    assert subjects == ["msg 07 odd", "msg 08 even"]
    rf, _ = found(find(hermod, dist("inbox"), "<t:Not>" + subject_is("msg 07 odd") + "</t:Not>"))
    assert rf.get("TotalItemsInView") == "29"
    after = ('<t:IsGreaterThanOrEqualTo><t:FieldURI FieldURI="item:DateTimeReceived"/>'
             '<t:FieldURIOrConstant><t:Constant Value="2024-01-25T00:00:00Z"/>'
             "</t:FieldURIOrConstant></t:IsGreaterThanOrEqualTo>")
    rf, subjects = found(find(hermod, dist("inbox"), after, sort))
    assert subjects == ["msg 24 even", "msg 25 odd", "msg 26 even", "msg 27 odd"]
    # IsRead false: none (created messages are read); Exists
    unread = ('<t:IsEqualTo><t:FieldURI FieldURI="message:IsRead"/><t:FieldURIOrConstant>'
              '<t:Constant Value="false"/></t:FieldURIOrConstant></t:IsEqualTo>')
    rf, _ = found(find(hermod, dist("inbox"), unread))
    assert rf.get("TotalItemsInView") == "0"
    rf, _ = found(find(hermod, dist("inbox"), '<t:Exists><t:FieldURI FieldURI="item:Subject"/>'
                       "</t:Exists>"))
    assert rf.get("TotalItemsInView") == "30"
    # paging: indexed from the beginning and the end, fractional
    seen, offset = [], 0
    while True:
        rf, page = found(find(hermod, dist("inbox"), sort=sort, view=(
            f'<m:IndexedPageItemView MaxEntriesReturned="7" Offset="{offset}" '
            'BasePoint="Beginning"/>')))
        seen += page
        offset = int(rf.get("IndexedPagingOffset"))
        if rf.get("IncludesLastItemInRange") == "true":
            break
    assert seen == sorted(seen) and len(seen) == 30 and len(set(seen)) == 30
    rf, page = found(find(hermod, dist("inbox"), sort=sort, view=(
        '<m:IndexedPageItemView MaxEntriesReturned="3" Offset="0" BasePoint="End"/>')))
    assert page == ["msg 27 odd", "msg 28 even", "msg 29 odd"]
    rf, page = found(find(hermod, dist("inbox"), sort=sort, view=(
        '<m:FractionalPageItemView MaxEntriesReturned="5" Numerator="1" Denominator="2"/>')))
    assert page == [f"msg {i:02d} {'even' if i % 2 == 0 else 'odd'}" for i in range(15, 20)]
    assert rf.get("NumeratorOffset") == "20" and rf.get("AbsoluteDenominator") == "30"
    # bad input: per-folder errors
    assert code(find(hermod, dist("inbox"), "<t:Frobnicate/>")) == "ErrorInvalidRestriction"
    assert code(find(hermod, dist("inbox"), '<t:IsEqualTo><t:FieldURI FieldURI="item:Body"/>'
                     "</t:IsEqualTo>")) == "ErrorInvalidRestriction"
    assert code(find(hermod, dist("inbox"), '<t:IsEqualTo><t:FieldURI FieldURI='
                     '"item:Attachments"/><t:FieldURIOrConstant><t:Constant Value="x"/>'
                     "</t:FieldURIOrConstant></t:IsEqualTo>")) == "ErrorUnsupportedPathForQuery"
    assert code(find(hermod, dist("inbox"), '<t:IsEqualTo><t:FieldURI FieldURI='
                     '"item:DateTimeReceived"/><t:FieldURIOrConstant><t:Constant Value="soon"/>'
                     "</t:FieldURIOrConstant></t:IsEqualTo>")) == "ErrorInvalidValueForProperty"
    # too many nodes: per folder; too deep for the XML reader: a fault
    wide = "<t:Or>" + subject_is("x") * 10001 + "</t:Or>"
    assert code(find(hermod, dist("inbox"), wide)) == "ErrorRestrictionTooComplex"
    deep = "<t:Not>" * 100 + subject_is("x") + "</t:Not>" * 100
    resp = call(hermod, '<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly'
                f"</t:BaseShape></m:ItemShape><m:Restriction>{deep}</m:Restriction>"
                f"<m:ParentFolderIds>{dist('inbox')}</m:ParentFolderIds></m:FindItem>",
                status=500)
    assert fault_code(resp) == "ErrorSchemaValidation"
    assert code(find(hermod, dist("inbox"), view='<m:IndexedPageItemView MaxEntriesReturned="0"'
                     ' Offset="0" BasePoint="Beginning"/>')) == "ErrorInvalidPagingMaxRows"
    assert code(find(hermod, dist("inbox"), view='<m:FractionalPageItemView '
                     'MaxEntriesReturned="5" Numerator="3" Denominator="2"/>')) == \
        "ErrorInvalidFractionalPagingParameters"
    # Bob sees none of it
    rf, _ = found(find(hermod, dist("inbox"), auth=BOB))
    assert rf.get("TotalItemsInView") == "0"


def update(hermod, ident, ck, updates, conflict="AutoResolve"):
    resp = call(hermod, f'<m:UpdateItem ConflictResolution="{conflict}" '
                'MessageDisposition="SaveOnly"><m:ItemChanges><t:ItemChange>'
                f"{iid(ident, ck)}<t:Updates>{updates}</t:Updates></t:ItemChange>"
                "</m:ItemChanges></m:UpdateItem>")
    return messages(resp)[0]


def set_field(uri, value_xml):
    return (f'<t:SetItemField><t:FieldURI FieldURI="{uri}"/><t:Message>{value_xml}</t:Message>'
            "</t:SetItemField>")


def test_update_item(hermod):
    add_users(hermod)
    msgs = create(hermod, message("before", "text body", to=[BOB[0]],
                                  extra="<t:Categories><t:String>A</t:String></t:Categories>"),
                  folder=dist("inbox"))
    ident, ck = item_id(msgs[0])
    m = update(hermod, ident, ck, set_field("item:Subject", "<t:Subject>after</t:Subject>") +
               '<t:AppendToItemField><t:FieldURI FieldURI="message:CcRecipients"/><t:Message>'
               "<t:CcRecipients><t:Mailbox><t:EmailAddress>carol@elsewhere.test"
               "</t:EmailAddress></t:Mailbox></t:CcRecipients></t:Message>"
               "</t:AppendToItemField>"
               '<t:DeleteItemField><t:FieldURI FieldURI="item:Categories"/></t:DeleteItemField>'
               + set_field("item:Body", '<t:Body BodyType="HTML">&lt;p&gt;new&lt;/p&gt;</t:Body>'))
    assert code(m) == "NoError", etree.tostring(m)
    ident2, ck2 = item_id(m)
    assert ident2 == ident and ck2 != ck
    assert m.find("m:ConflictResults/t:Count", NS).text == "0"
    item = the_item(get(hermod, iid(ident), body_type="Text")[0])
    assert text(item, "t:Subject") == "after"
    assert item.find("t:Categories", NS) is None
    assert text(item, "t:CcRecipients/t:Mailbox/t:EmailAddress") == "carol@elsewhere.test"
    assert text(item, "t:ToRecipients/t:Mailbox/t:EmailAddress") == BOB[0]
    assert text(item, "t:Body").strip() == "new"
    assert text(item, "t:DisplayCc") == "carol@elsewhere.test"
    # the MIME follows
    item = the_item(get(hermod, iid(ident), base="IdOnly", mime=True)[0])
    mm = email.message_from_bytes(base64.b64decode(text(item, "t:MimeContent")))
    assert mm["Subject"] == "after" and "carol@elsewhere.test" in mm["Cc"]
    # the old change key is stale now
    m = update(hermod, ident, ck, set_field("item:Subject", "<t:Subject>x</t:Subject>"))
    assert code(m) == "ErrorIrresolvableConflict"
    m = update(hermod, ident, ck, set_field("item:Subject", "<t:Subject>x</t:Subject>"),
               "NeverOverwrite")
    assert code(m) == "ErrorIrresolvableConflict"
    m = update(hermod, ident, ck, set_field("item:Subject", "<t:Subject>forced</t:Subject>"),
               "AlwaysOverwrite")
    assert code(m) == "NoError"
    # read state: not a content change, the change key stays
    _, ck3 = item_id(m)
    m = update(hermod, ident, ck3, set_field("message:IsRead", "<t:IsRead>false</t:IsRead>"))
    assert code(m) == "NoError"
    item = the_item(get(hermod, iid(ident))[0])
    assert text(item, "t:IsRead") == "false"
    # errors
    assert code(update(hermod, ident, None, set_field("item:Size", "<t:Size>5</t:Size>"))) == \
        "ErrorInvalidPropertySet"
    assert code(update(hermod, ident, None, set_field("item:Subject", "<t:Importance>High"
                                                      "</t:Importance>"))) == \
        "ErrorIncorrectUpdatePropertyCount"
    assert code(update(hermod, ident, None, '<t:AppendToItemField><t:FieldURI FieldURI='
                       '"item:Subject"/><t:Message><t:Subject>x</t:Subject></t:Message>'
                       "</t:AppendToItemField>")) == "ErrorInvalidPropertyAppend"
    assert code(update(hermod, ident, None, set_field("item:Importance",
                                                      "<t:Importance>Huge</t:Importance>"))) == \
        "ErrorInvalidValueForProperty"
    item = the_item(get(hermod, iid(ident))[0])
    assert text(item, "t:Subject") == "forced"


def test_delete_move_copy(hermod):
    add_users(hermod)
    ids = [item_id(m)[0] for m in create(
        hermod, "".join(message(f"m{i}") for i in range(4)), folder=dist("inbox"))]
    bob_id = item_id(create(hermod, message("bob's"), folder=dist("inbox"), auth=BOB)[0])[0]

    def op(name, ident, to=None, extra=""):
        tf = f"<m:ToFolderId>{to}</m:ToFolderId>" if to else ""
        resp = call(hermod, f"<m:{name}{extra}>{tf}<m:ItemIds>{iid(ident)}</m:ItemIds></m:{name}>")
        return messages(resp)[0]

    # move to Drafts: a new id; the old one is gone
    m = op("MoveItem", ids[0], dist("drafts"))
    new, _ = item_id(m)
    assert new != ids[0]
    assert code(get(hermod, iid(ids[0]))[0]) == "ErrorItemNotFound"
    assert text(the_item(get(hermod, iid(new))[0]), "t:Subject") == "m0"
    # copy: both exist
    c, _ = item_id(op("CopyItem", ids[1], dist("drafts")))
    assert code(get(hermod, iid(ids[1]))[0]) == "NoError"
    assert code(get(hermod, iid(c))[0]) == "NoError"
    # delete to Deleted Items, then for good
    assert code(op("DeleteItem", ids[2], extra=' DeleteType="MoveToDeletedItems"')) == "NoError"
    rf, subjects = found(find(hermod, dist("deleteditems")))
    assert subjects == ["m2"]
    dele = rf.find("t:Items/t:Message/t:ItemId", NS).get("Id")
    assert code(op("DeleteItem", dele, extra=' DeleteType="MoveToDeletedItems"')) == "NoError"
    assert found(find(hermod, dist("deleteditems")))[1] == []
    assert code(op("DeleteItem", ids[3], extra=' DeleteType="HardDelete"')) == "NoError"
    assert code(op("DeleteItem", ids[3], extra=' DeleteType="HardDelete"')) == \
        "ErrorItemNotFound"
    # another user's item, forged and malformed ids
    assert code(op("DeleteItem", bob_id, extra=' DeleteType="HardDelete"')) == \
        "ErrorAccessDenied"
    assert code(op("MoveItem", bob_id, dist("inbox"))) == "ErrorAccessDenied"
    assert code(get(hermod, iid(bob_id))[0]) == "ErrorAccessDenied"
    raw = bytearray(base64.b64decode(ids[1]))
    raw[-1] ^= 0x40
    assert code(get(hermod, iid(base64.b64encode(raw).decode()))[0]) == "ErrorItemNotFound"
    assert code(get(hermod, iid("junk"))[0]) == "ErrorInvalidIdMalformed"
    assert code(op("MoveItem", ids[1], dist("nosuch"))) == "ErrorToFolderNotFound"
    assert code(op("DeleteItem", ids[1], extra=' DeleteType="Vaporize"')) == "ErrorInvalidRequest"
    # Bob's message is intact
    assert text(the_item(get(hermod, iid(bob_id), auth=BOB)[0]), "t:Subject") == "bob's"
    # a batch reports per item
    resp = call(hermod, "<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>"
                f"<m:ItemIds>{iid(ids[1])}{iid('junk')}{iid(bob_id)}{iid(c)}</m:ItemIds>"
                "</m:GetItem>")
    assert [code(x) for x in messages(resp)] == ["NoError", "ErrorInvalidIdMalformed",
                                                 "ErrorAccessDenied", "NoError"]


def test_mark_all_read(hermod):
    add_users(hermod)
    items = "".join(message(f"u{i}", extra="<t:IsRead>false</t:IsRead>") for i in range(5))
    create(hermod, items, folder=dist("inbox"))
    unread = ('<t:IsEqualTo><t:FieldURI FieldURI="message:IsRead"/><t:FieldURIOrConstant>'
              '<t:Constant Value="false"/></t:FieldURIOrConstant></t:IsEqualTo>')
    assert found(find(hermod, dist("inbox"), unread))[0].get("TotalItemsInView") == "5"
    resp = call(hermod, "<m:MarkAllItemsAsRead><m:ReadFlag>true</m:ReadFlag>"
                "<m:SuppressReadReceipts>true</m:SuppressReadReceipts>"
                f"<m:FolderIds>{dist('inbox')}{dist('nosuch')}</m:FolderIds>"
                "</m:MarkAllItemsAsRead>")
    assert [code(m) for m in messages(resp)] == ["NoError", "ErrorFolderNotFound"]
    assert found(find(hermod, dist("inbox"), unread))[0].get("TotalItemsInView") == "0"
    resp = call(hermod, "<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape>"
                f"</m:FolderShape><m:FolderIds>{dist('inbox')}</m:FolderIds></m:GetFolder>")
    assert text(messages(resp)[0], ".//t:UnreadCount") == "0"


def test_exchangelib_items(hermod):
    from exchangelib import HTMLBody, Mailbox, Message
    add_users(hermod)
    acct = account(hermod)
    m = Message(account=acct, folder=acct.drafts, subject="exchangelib draft",
                body=HTMLBody("<html><body><h1>Hi</h1><p>there</p></body></html>"),
                to_recipients=[Mailbox(email_address=BOB[0])], categories=["Blue"])
    m.save()
    assert m.id and m.changekey
    got = acct.drafts.get(id=m.id)
    assert got.subject == "exchangelib draft"
    assert "<h1>Hi</h1>" in got.body
    assert "there" in got.text_body
    assert got.to_recipients[0].email_address == BOB[0]
    assert got.categories == ["Blue"]
    assert got.mime_content and b"exchangelib draft" in got.mime_content
    for i in range(5):
        Message(account=acct, folder=acct.inbox, subject=f"find me {i}", body="b").save()
    qs = acct.inbox.filter(subject__contains="find me").order_by("-subject")
    assert [x.subject for x in qs] == [f"find me {i}" for i in (4, 3, 2, 1, 0)]
    assert acct.inbox.filter(subject="find me 2").count() == 1
    item = acct.inbox.get(subject="find me 2")
    item.is_read = False
    item.save(update_fields=["is_read"])
    assert acct.inbox.get(subject="find me 2").is_read is False
    item = acct.inbox.get(subject="find me 2")
    item.subject = "renamed"
    item.save()
    assert acct.inbox.filter(subject="renamed").count() == 1
    item.move(acct.junk)
    assert acct.junk.all().count() == 1 and acct.inbox.filter(subject="renamed").count() == 0
    item.delete()
    assert acct.junk.all().count() == 0
    acct.inbox.all().delete()
    assert acct.inbox.all().count() == 0
