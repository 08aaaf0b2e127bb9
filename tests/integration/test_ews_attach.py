"""EWS attachments (MS-OXWSATT) through the real server: CreateAttachment,
GetAttachment, DeleteAttachment with file and item attachments, attachments
given with CreateItem, and the same through exchangelib."""
import base64
import email

from ewsutil import ALICE, BOB, NS, account, add_users, call, code, messages
from test_ews_items import create, get, iid, item_id, message, text, the_item


def create_attachment(hermod, parent, ck, atts, auth=ALICE):
    ck = f' ChangeKey="{ck}"' if ck else ""
    resp = call(hermod, f'<m:CreateAttachment><m:ParentItemId Id="{parent}"{ck}/>'
                f"<m:Attachments>{atts}</m:Attachments></m:CreateAttachment>", auth=auth)
    return messages(resp)


def file_att(name, data, ctype="application/octet-stream", inline=False):
    b64 = base64.b64encode(data).decode()
    il = "<t:IsInline>true</t:IsInline>" if inline else ""
    return (f"<t:FileAttachment><t:Name>{name}</t:Name><t:ContentType>{ctype}</t:ContentType>"
            f"{il}<t:Content>{b64}</t:Content></t:FileAttachment>")


def get_attachment(hermod, ids, auth=ALICE):
    ref = "".join(f'<t:AttachmentId Id="{i}"/>' for i in ids)
    resp = call(hermod, "<m:GetAttachment><m:AttachmentShape/><m:AttachmentIds>"
                f"{ref}</m:AttachmentIds></m:GetAttachment>", auth=auth)
    return messages(resp)


def test_file_and_item_attachments(hermod):
    add_users(hermod)
    ident, ck = item_id(create(hermod, message("with files", "see attached"))[0])
    blob = bytes(range(256)) * 1000  # 256 KB, every byte value
    m = create_attachment(hermod, ident, ck, file_att("data.bin", blob) +
                          file_att("note.txt", b"hello\n", "text/plain") +
                          "<t:ItemAttachment><t:Name>fwd</t:Name><t:Message>"
                          "<t:Subject>inner subject</t:Subject>"
                          '<t:Body BodyType="Text">inner body</t:Body></t:Message>'
                          "</t:ItemAttachment>")
    assert [code(x) for x in m] == ["NoError"] * 3
    att_ids = [x.find("m:Attachments", NS)[0].find("t:AttachmentId", NS) for x in m]
    assert att_ids[0].get("RootItemId") == ident
    new_ck = att_ids[2].get("RootItemChangeKey")
    assert new_ck and new_ck != ck
    # the item lists them
    item = the_item(get(hermod, iid(ident))[0])
    assert text(item, "t:HasAttachments") == "true"
    names = [text(a, "t:Name") for a in item.find("t:Attachments", NS)]
    assert names == ["data.bin", "note.txt", "fwd"]
    fa = item.find("t:Attachments/t:FileAttachment", NS)
    # PidTagAttachSize: the data and the attachment's properties
    assert len(blob) <= int(text(fa, "t:Size")) < len(blob) + 4096
    assert item.find("t:Attachments/t:ItemAttachment", NS) is not None
    # content round trip
    got = get_attachment(hermod, [a.get("Id") for a in att_ids])
    assert [code(x) for x in got] == ["NoError"] * 3
    f0 = got[0].find("m:Attachments/t:FileAttachment", NS)
    assert base64.b64decode(text(f0, "t:Content")) == blob
    assert text(f0, "t:ContentType") == "application/octet-stream"
    f1 = got[1].find("m:Attachments/t:FileAttachment", NS)
    assert base64.b64decode(text(f1, "t:Content")) == b"hello\n"
    ia = got[2].find("m:Attachments/t:ItemAttachment", NS)
    assert text(ia, "t:Message/t:Subject") == "inner subject"
    assert "inner body" in text(ia, "t:Message/t:Body")
    # the MIME carries them
    item = the_item(get(hermod, iid(ident), base="IdOnly", mime=True)[0])
    mm = email.message_from_bytes(base64.b64decode(text(item, "t:MimeContent")))
    parts = {p.get_filename(): p for p in mm.walk() if p.get_filename()}
    assert parts["data.bin"].get_payload(decode=True) == blob
    # delete one
    resp = call(hermod, f'<m:DeleteAttachment><m:AttachmentIds><t:AttachmentId '
                f'Id="{att_ids[1].get("Id")}"/></m:AttachmentIds></m:DeleteAttachment>')
    (d,) = messages(resp)
    assert code(d) == "NoError"
    assert d.find("m:RootItemId", NS).get("RootItemId") == ident
    item = the_item(get(hermod, iid(ident))[0])
    assert [text(a, "t:Name") for a in item.find("t:Attachments", NS)] == ["data.bin", "fwd"]
    assert code(get_attachment(hermod, [att_ids[1].get("Id")])[0]) == "ErrorInvalidAttachmentId"
    # ids that are not attachments of ours
    bob_item, bob_ck = item_id(create(hermod, message("bob"), auth=BOB)[0])
    bm = create_attachment(hermod, bob_item, bob_ck, file_att("x", b"x"), auth=BOB)
    bob_att = bm[0].find("m:Attachments", NS)[0].find("t:AttachmentId", NS).get("Id")
    assert code(get_attachment(hermod, [bob_att])[0]) == "ErrorAccessDenied"
    assert code(get_attachment(hermod, ["junk"])[0]) == "ErrorInvalidIdMalformed"
    assert code(get_attachment(hermod, [ident])[0]) == "ErrorInvalidIdMalformed"
    assert code(create_attachment(hermod, bob_item, None, file_att("x", b"x"))[0]) == \
        "ErrorAccessDenied"
    assert code(create_attachment(hermod, ident, None, "<t:FileAttachment><t:Name>x</t:Name>"
                                  "<t:Content>!!!</t:Content></t:FileAttachment>")[0]) == \
        "ErrorInvalidValueForProperty"


def test_attachments_in_create_item(hermod):
    add_users(hermod)
    att = "<t:Attachments>" + file_att("a.txt", b"AAA", "text/plain") + "</t:Attachments>"
    ident, _ = item_id(create(hermod, message("inline", extra=att))[0])
    item = the_item(get(hermod, iid(ident))[0])
    a = item.find("t:Attachments/t:FileAttachment", NS)
    assert text(a, "t:Name") == "a.txt" and 3 <= int(text(a, "t:Size")) < 4096
    got = get_attachment(hermod, [a.find("t:AttachmentId", NS).get("Id")])
    assert base64.b64decode(text(got[0], ".//t:Content")) == b"AAA"


def test_exchangelib_attachments(hermod):
    from exchangelib import FileAttachment, ItemAttachment, Message
    add_users(hermod)
    acct = account(hermod)
    m = Message(account=acct, folder=acct.drafts, subject="att test", body="b")
    m.save()
    m.attach(FileAttachment(name="photo.jpg", content=b"\xff\xd8\xff" + b"x" * 5000,
                            content_type="image/jpeg"))
    inner = Message(subject="inner", body="inner body")
    m.attach(ItemAttachment(name="inner", item=inner))
    got = acct.drafts.get(id=m.id)
    assert got.has_attachments
    files = [a for a in got.attachments if isinstance(a, FileAttachment)]
    items = [a for a in got.attachments if isinstance(a, ItemAttachment)]
    assert files[0].name == "photo.jpg" and files[0].content == b"\xff\xd8\xff" + b"x" * 5000
    assert items[0].item.subject == "inner"
    got.detach(files[0])
    assert [a.name for a in acct.drafts.get(id=m.id).attachments] == ["inner"]

