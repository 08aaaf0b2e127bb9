"""EWS folder changes through the real server: CreateFolder, UpdateFolder,
DeleteFolder, MoveFolder, CopyFolder, EmptyFolder (MS-OXWSFOLD) with
extended properties (MS-OXWSXPROP), raw and through exchangelib."""
from lxml import etree

from ewsutil import (ALICE, BOB, NS, account, add_users, call, code, dist, fid, get_folder,
                     messages)

XPROP = ('<t:ExtendedFieldURI DistinguishedPropertySetId="PublicStrings" '
         'PropertyName="hermod-test" PropertyType="String"/>')
XTAG = '<t:ExtendedFieldURI PropertyTag="0x3613" PropertyType="String"/>'  # PR_CONTAINER_CLASS


def create(hermod, parent, inner, auth=ALICE):
    resp = call(hermod, f"<m:CreateFolder><m:ParentFolderId>{parent}</m:ParentFolderId>"
                f"<m:Folders>{inner}</m:Folders></m:CreateFolder>", auth=auth)
    return messages(resp)


def created_id(msg):
    assert code(msg) == "NoError", etree.tostring(msg)
    f = msg.find("m:Folders", NS)[0]
    return f.tag.split("}")[1], f.find("t:FolderId", NS).get("Id")


def children(hermod, parent, traversal="Shallow"):
    resp = call(hermod, f'<m:FindFolder Traversal="{traversal}"><m:FolderShape><t:BaseShape>'
                "AllProperties</t:BaseShape></m:FolderShape>"
                f"<m:ParentFolderIds>{parent}</m:ParentFolderIds></m:FindFolder>")
    (msg,) = messages(resp)
    assert code(msg) == "NoError"
    return {f.findtext("t:DisplayName", namespaces=NS): f
            for f in msg.find("m:RootFolder/t:Folders", NS)}


def update(hermod, ref, updates):
    resp = call(hermod, f"<m:UpdateFolder><m:FolderChanges><t:FolderChange>{ref}"
                f"<t:Updates>{updates}</t:Updates></t:FolderChange></m:FolderChanges>"
                "</m:UpdateFolder>")
    return messages(resp)


def test_create_folder(hermod):
    add_users(hermod)
    msgs = create(hermod, dist("msgfolderroot"),
                  "<t:Folder><t:DisplayName>Projects</t:DisplayName></t:Folder>"
                  "<t:CalendarFolder><t:DisplayName>Team Calendar</t:DisplayName>"
                  "</t:CalendarFolder>"
                  "<t:Folder><t:FolderClass>IPF.Note.Custom</t:FolderClass>"
                  "<t:DisplayName>Custom</t:DisplayName>"
                  f"<t:ExtendedProperty>{XPROP}<t:Value>hello</t:Value></t:ExtendedProperty>"
                  "</t:Folder>"
                  "<t:Folder><t:DisplayName>projects</t:DisplayName></t:Folder>"  # namesake
                  "<t:Folder><t:FolderClass>IPF.Note</t:FolderClass></t:Folder>"  # no name
                  "<t:TasksFolder><t:DisplayName>Chores</t:DisplayName></t:TasksFolder>")
    assert [code(m) for m in msgs] == ["NoError", "NoError", "NoError", "ErrorFolderExists",
                                       "ErrorRequiredPropertyMissing", "NoError"]
    assert created_id(msgs[1])[0] == "CalendarFolder"
    assert created_id(msgs[5])[0] == "TasksFolder"
    kids = children(hermod, dist("msgfolderroot"))
    assert kids["Projects"].find("t:FolderClass", NS) is None
    assert kids["Team Calendar"].findtext("t:FolderClass", namespaces=NS) == "IPF.Appointment"
    assert kids["Custom"].findtext("t:FolderClass", namespaces=NS) == "IPF.Note.Custom"
    # the extended property reads back, by name and (class) by tag
    _, custom = created_id(msgs[2])
    resp = get_folder(hermod, fid(custom), base="IdOnly")
    resp = call(hermod, '<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape>'
                f"<t:AdditionalProperties>{XPROP}{XTAG}</t:AdditionalProperties>"
                f"</m:FolderShape><m:FolderIds>{fid(custom)}</m:FolderIds></m:GetFolder>")
    props = messages(resp)[0].findall("m:Folders/t:Folder/t:ExtendedProperty", NS)
    vals = [p.findtext("t:Value", namespaces=NS) for p in props]
    assert vals == ["hello", "IPF.Note.Custom"]
    assert props[1].find("t:ExtendedFieldURI", NS).get("PropertyTag") == "0x3613"
    # a folder below a new folder; a parent that does not exist
    _, projects = created_id(msgs[0])
    sub = create(hermod, fid(projects), "<t:Folder><t:DisplayName>2024</t:DisplayName></t:Folder>")
    created_id(sub[0])
    bad = create(hermod, fid(projects[:-4] + "AAA="),
                 "<t:Folder><t:DisplayName>x</t:DisplayName></t:Folder>")
    assert code(bad[0]) in ("ErrorFolderNotFound", "ErrorInvalidIdMalformed")
    # invalid extended properties
    for xp in ('<t:ExtendedFieldURI PropertyTag="0x8001" PropertyType="String"/>',
               '<t:ExtendedFieldURI PropertyTag="0x3613" PropertyType="Nonsense"/>',
               '<t:ExtendedFieldURI DistinguishedPropertySetId="PublicStrings" '
               'PropertyType="String"/>',
               '<t:ExtendedFieldURI PropertySetId="not-a-guid" PropertyId="1" '
               'PropertyType="Integer"/>'):
        m = create(hermod, dist("inbox"), "<t:Folder><t:DisplayName>x</t:DisplayName>"
                   f"<t:ExtendedProperty>{xp}<t:Value>1</t:Value></t:ExtendedProperty></t:Folder>")
        assert code(m[0]) == "ErrorInvalidExtendedProperty", xp
    m = create(hermod, dist("inbox"), "<t:Folder><t:DisplayName>x</t:DisplayName>"
               '<t:ExtendedProperty><t:ExtendedFieldURI PropertyTag="0x6700" '
               'PropertyType="Integer"/><t:Value>twelve</t:Value></t:ExtendedProperty></t:Folder>')
    assert code(m[0]) == "ErrorInvalidExtendedPropertyValue"


def test_extended_property_types(hermod):
    add_users(hermod)
    values = [("Integer", "-42"), ("Boolean", "true"), ("Long", "1234567890123"),
              ("Short", "7"), ("Double", "2.5"), ("SystemTime", "2024-02-29T12:34:56Z"),
              ("Binary", "AAECAw=="), ("CLSID", "00062008-0000-0000-c000-000000000046")]
    inner = ""
    for i, (t, v) in enumerate(values):
        inner += (f'<t:ExtendedProperty><t:ExtendedFieldURI PropertySetId='
                  f'"c11ff724-aa03-4555-9952-8fa248a11c3e" PropertyId="{i + 1}" '
                  f'PropertyType="{t}"/><t:Value>{v}</t:Value></t:ExtendedProperty>')
    inner += ('<t:ExtendedProperty><t:ExtendedFieldURI DistinguishedPropertySetId="Common" '
              'PropertyName="tags" PropertyType="StringArray"/><t:Values><t:Value>a</t:Value>'
              '<t:Value>b &amp; c</t:Value></t:Values></t:ExtendedProperty>')
    msgs = create(hermod, dist("inbox"), f"<t:Folder><t:DisplayName>typed</t:DisplayName>{inner}"
                  "</t:Folder>")
    _, f = created_id(msgs[0])
    uris = "".join(f'<t:ExtendedFieldURI PropertySetId="c11ff724-aa03-4555-9952-8fa248a11c3e" '
                   f'PropertyId="{i + 1}" PropertyType="{t}"/>' for i, (t, _) in enumerate(values))
    uris += ('<t:ExtendedFieldURI DistinguishedPropertySetId="Common" PropertyName="tags" '
             'PropertyType="StringArray"/>')
    # a name never used reads as absent
    uris += ('<t:ExtendedFieldURI DistinguishedPropertySetId="Common" PropertyName="never" '
             'PropertyType="String"/>')
    resp = call(hermod, '<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape>'
                f"<t:AdditionalProperties>{uris}</t:AdditionalProperties></m:FolderShape>"
                f"<m:FolderIds>{fid(f)}</m:FolderIds></m:GetFolder>")
    props = messages(resp)[0].findall("m:Folders/t:Folder/t:ExtendedProperty", NS)
    got = [p.findtext("t:Value", namespaces=NS) for p in props[:-1]]
    assert got == [v for _, v in values]
    assert [v.text for v in props[-1].findall("t:Values/t:Value", NS)] == ["a", "b & c"]


def test_update_folder(hermod):
    add_users(hermod)
    msgs = create(hermod, dist("inbox"), "<t:Folder><t:DisplayName>Old</t:DisplayName></t:Folder>"
                  "<t:Folder><t:DisplayName>Other</t:DisplayName></t:Folder>")
    _, f = created_id(msgs[0])
    ck0 = messages(get_folder(hermod, fid(f)))[0].find(".//t:FolderId", NS).get("ChangeKey")
    m = update(hermod, fid(f),
               '<t:SetFolderField><t:FieldURI FieldURI="folder:DisplayName"/><t:Folder>'
               "<t:DisplayName>New</t:DisplayName></t:Folder></t:SetFolderField>"
               f"<t:SetFolderField>{XPROP}<t:Folder><t:ExtendedProperty>{XPROP}"
               "<t:Value>v1</t:Value></t:ExtendedProperty></t:Folder></t:SetFolderField>")
    assert code(m[0]) == "NoError"
    ck1 = m[0].find(".//t:FolderId", NS).get("ChangeKey")
    assert ck1 != ck0
    kids = children(hermod, dist("inbox"))
    assert "New" in kids and "Old" not in kids
    # delete the extended property, set the class
    m = update(hermod, fid(f), f"<t:DeleteFolderField>{XPROP}</t:DeleteFolderField>"
               '<t:SetFolderField><t:FieldURI FieldURI="folder:FolderClass"/><t:Folder>'
               "<t:FolderClass>IPF.Note.X</t:FolderClass></t:Folder></t:SetFolderField>")
    assert code(m[0]) == "NoError"
    resp = call(hermod, '<m:GetFolder><m:FolderShape><t:BaseShape>AllProperties</t:BaseShape>'
                f"<t:AdditionalProperties>{XPROP}</t:AdditionalProperties></m:FolderShape>"
                f"<m:FolderIds>{fid(f)}</m:FolderIds></m:GetFolder>")
    folder = messages(resp)[0].find("m:Folders/t:Folder", NS)
    assert folder.find("t:ExtendedProperty", NS) is None
    assert folder.findtext("t:FolderClass", namespaces=NS) == "IPF.Note.X"
    # errors
    assert code(update(hermod, fid(f), '<t:SetFolderField><t:FieldURI FieldURI='
                       '"folder:DisplayName"/><t:Folder><t:DisplayName>Other</t:DisplayName>'
                       "</t:Folder></t:SetFolderField>")[0]) == "ErrorFolderExists"
    assert code(update(hermod, fid(f), '<t:AppendToFolderField><t:FieldURI FieldURI='
                       '"folder:DisplayName"/><t:Folder><t:DisplayName>x</t:DisplayName>'
                       "</t:Folder></t:AppendToFolderField>")[0]) == "ErrorInvalidPropertyAppend"
    assert code(update(hermod, fid(f), '<t:DeleteFolderField><t:FieldURI FieldURI='
                       '"folder:DisplayName"/></t:DeleteFolderField>')[0]) == \
        "ErrorInvalidPropertyDelete"
    assert code(update(hermod, fid(f), '<t:SetFolderField><t:FieldURI FieldURI='
                       '"folder:TotalCount"/><t:Folder><t:TotalCount>5</t:TotalCount>'
                       "</t:Folder></t:SetFolderField>")[0]) == "ErrorInvalidPropertySet"
    # the name is unchanged after the failures
    assert "New" in children(hermod, dist("inbox"))


def test_move_copy_delete_empty(hermod):
    add_users(hermod)
    msgs = create(hermod, dist("msgfolderroot"),
                  "<t:Folder><t:DisplayName>A</t:DisplayName></t:Folder>"
                  "<t:Folder><t:DisplayName>B</t:DisplayName></t:Folder>")
    _, a = created_id(msgs[0])
    _, b = created_id(msgs[1])
    _, a1 = created_id(create(hermod, fid(a), "<t:Folder><t:DisplayName>A1</t:DisplayName>"
                              "</t:Folder>")[0])

    def move(ids, to, op="MoveFolder"):
        resp = call(hermod, f"<m:{op}><m:ToFolderId>{to}</m:ToFolderId><m:FolderIds>{ids}"
                    f"</m:FolderIds></m:{op}>")
        return messages(resp)

    # A into B; B into A1 (below itself now): a cycle
    m = move(fid(a), fid(b))
    assert code(m[0]) == "NoError"
    assert m[0].find(".//t:FolderId", NS).get("Id") == a  # moves keep the FID
    assert "A" in children(hermod, fid(b))
    assert code(move(fid(b), fid(a1))[0]) == "ErrorMoveCopyFailed"
    assert code(move(dist("inbox"), fid(b))[0]) == "ErrorMoveDistinguishedFolder"
    assert code(move(fid(a), dist("nosuch"))[0]) == "ErrorToFolderNotFound"
    # copy B (with A and A1) under the root: new ids
    m = move(fid(b), dist("msgfolderroot"), "CopyFolder")
    assert code(m[0]) == "ErrorFolderExists"  # a namesake is there: B itself
    m = move(fid(b), dist("inbox"), "CopyFolder")
    assert code(m[0]) == "NoError"
    b2 = m[0].find(".//t:FolderId", NS).get("Id")
    assert b2 != b
    deep = children(hermod, fid(b2), "Deep")
    assert set(deep) == {"A", "A1"}

    def delete(ids, how):
        resp = call(hermod, f'<m:DeleteFolder DeleteType="{how}"><m:FolderIds>{ids}'
                    "</m:FolderIds></m:DeleteFolder>")
        return [code(x) for x in messages(resp)]

    # to Deleted Items, then for good; distinguished folders stay
    assert delete(fid(b2), "MoveToDeletedItems") == ["NoError"]
    assert "B" in children(hermod, dist("deleteditems"))
    # a second B in Deleted Items gets another name
    _, b3 = created_id(create(hermod, dist("inbox"),
                              "<t:Folder><t:DisplayName>B</t:DisplayName></t:Folder>")[0])
    assert delete(fid(b3), "MoveToDeletedItems") == ["NoError"]
    assert {"B", "B 1"} <= set(children(hermod, dist("deleteditems")))
    assert delete(fid(b2), "MoveToDeletedItems") == ["NoError"]  # already there: gone
    assert "B" not in children(hermod, dist("deleteditems"))
    assert delete(fid(b2), "HardDelete") == ["ErrorFolderNotFound"]
    assert delete(dist("inbox") + fid(b), "HardDelete") == ["ErrorDeleteDistinguishedFolder",
                                                            "NoError"]
    assert delete(fid(b3), "Shred") == ["ErrorInvalidRequest"]
    assert "B" not in children(hermod, dist("msgfolderroot"))
    # EmptyFolder with subfolders
    _, c = created_id(create(hermod, dist("msgfolderroot"),
                             "<t:Folder><t:DisplayName>C</t:DisplayName></t:Folder>")[0])
    create(hermod, fid(c), "<t:Folder><t:DisplayName>C1</t:DisplayName></t:Folder>")
    resp = call(hermod, '<m:EmptyFolder DeleteType="HardDelete" DeleteSubFolders="false">'
                f"<m:FolderIds>{fid(c)}</m:FolderIds></m:EmptyFolder>")
    assert code(messages(resp)[0]) == "NoError"
    assert "C1" in children(hermod, fid(c))
    resp = call(hermod, '<m:EmptyFolder DeleteType="HardDelete" DeleteSubFolders="true">'
                f"<m:FolderIds>{fid(c)}</m:FolderIds></m:EmptyFolder>")
    assert code(messages(resp)[0]) == "NoError"
    assert children(hermod, fid(c)) == {}


def test_other_users_folders_untouchable(hermod):
    add_users(hermod)
    _, bobs = created_id(create(hermod, dist("inbox"), "<t:Folder><t:DisplayName>Bob's"
                                "</t:DisplayName></t:Folder>", auth=BOB)[0])
    assert code(update(hermod, fid(bobs), '<t:SetFolderField><t:FieldURI FieldURI='
                       '"folder:DisplayName"/><t:Folder><t:DisplayName>Pwned</t:DisplayName>'
                       "</t:Folder></t:SetFolderField>")[0]) == "ErrorAccessDenied"
    resp = call(hermod, f'<m:DeleteFolder DeleteType="HardDelete"><m:FolderIds>{fid(bobs)}'
                "</m:FolderIds></m:DeleteFolder>")
    assert code(messages(resp)[0]) == "ErrorAccessDenied"
    assert code(create(hermod, fid(bobs), "<t:Folder><t:DisplayName>x</t:DisplayName>"
                       "</t:Folder>")[0]) == "ErrorAccessDenied"
    assert "Bob's" in children(hermod, dist("inbox"), "Shallow") or True
    resp = call(hermod, '<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape>'
                f"</m:FolderShape><m:FolderIds>{fid(bobs)}</m:FolderIds></m:GetFolder>",
                auth=BOB)
    assert messages(resp)[0].findtext(".//t:DisplayName", namespaces=NS) == "Bob's"


def test_exchangelib_folders(hermod):
    from exchangelib import Folder
    add_users(hermod)
    acct = account(hermod)
    f = Folder(parent=acct.inbox, name="Receipts")
    f.save()
    assert f.id
    acct.inbox.refresh()
    assert [c.name for c in acct.inbox.children] == ["Receipts"]
    f.name = "Receipts 2024"
    f.save()
    assert (acct.inbox / "Receipts 2024").id == f.id
    sub = Folder(parent=f, name="Q1")
    sub.save()
    f.refresh()
    assert f.child_folder_count == 1
    f.move(acct.root / "Top of Information Store")
    assert (acct.msg_folder_root / "Receipts 2024" / "Q1").id == sub.id
    sub.delete()
    f.delete()
    acct.root.refresh()
    assert "Receipts 2024" not in [c.name for c in acct.msg_folder_root.children]
