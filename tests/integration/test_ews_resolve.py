"""ResolveNames (MS-OXWSRSLNM) and ExpandDL (MS-OXWSDLIST) over the
directory: raw SOAP for exact answers, exchangelib as the real client."""
from lxml import etree

from ewsutil import ALICE, NS, account, add_users, call, code, messages


def directory(hermod):
    add_users(hermod)
    hermod.add_user("carol@example.test", "carol-pw-1", "--name", "Carol Danvers")
    hermod.add_user("zed@example.test", "zed-pw-1", "--name", "Zed Offline")
    hermod.cli("user", "disable", "zed@example.test")
    hermod.cli("group", "add", "team@example.test", "--name", "The Team")
    hermod.cli("group", "add", "leads@example.test", "--name", "Team Leads")
    hermod.cli("group", "member", "add", "team@example.test", "bob@example.test")
    hermod.cli("group", "member", "add", "team@example.test", "carol@example.test")
    hermod.cli("group", "member", "add", "team@example.test", "leads@example.test")
    hermod.cli("group", "member", "add", "leads@example.test", "alice@example.test")


def resolve(hermod, *entries, full=False, scope=None):
    sc = f' SearchScope="{scope}"' if scope else ""
    body = "".join(f"<m:UnresolvedEntry>{e}</m:UnresolvedEntry>" for e in entries)
    resp = call(hermod, f'<m:ResolveNames ReturnFullContactData="{str(full).lower()}"{sc}>'
                f"{body}</m:ResolveNames>")
    return messages(resp)


def mailboxes(msg):
    rs = msg.find("m:ResolutionSet", NS)
    return [(r.findtext("t:Mailbox/t:Name", namespaces=NS),
             r.findtext("t:Mailbox/t:EmailAddress", namespaces=NS),
             r.findtext("t:Mailbox/t:MailboxType", namespaces=NS)) for r in rs]


def test_resolve_names(hermod):
    directory(hermod)
    # an exact address, also with the SMTP: prefix and another case
    for entry in ("bob@example.test", "SMTP:Bob@Example.Test", "  smtp:bob@example.test "):
        (msg,) = resolve(hermod, entry)
        assert msg.get("ResponseClass") == "Success" and code(msg) == "NoError", entry
        assert mailboxes(msg) == [("Bob Builder", "bob@example.test", "Mailbox")]
        rs = msg.find("m:ResolutionSet", NS)
        assert rs.get("TotalItemsInView") == "1" and rs.get("IncludesLastItemInRange") == "true"
    # part of a name: one match is a success
    (msg,) = resolve(hermod, "carol")
    assert mailboxes(msg) == [("Carol Danvers", "carol@example.test", "Mailbox")]
    # a group resolves as a public distribution list
    (msg,) = resolve(hermod, "team@example.test")
    assert mailboxes(msg) == [("The Team", "team@example.test", "PublicDL")]
    # several matches: a warning listing them all
    (msg,) = resolve(hermod, "team")
    assert msg.get("ResponseClass") == "Warning"
    assert code(msg) == "ErrorNameResolutionMultipleResults"
    assert sorted(m[1] for m in mailboxes(msg)) == ["leads@example.test", "team@example.test"]
    # nothing: an error; a disabled user is not offered
    (msg,) = resolve(hermod, "nobody-like-this")
    assert msg.get("ResponseClass") == "Error" and code(msg) == "ErrorNameResolutionNoResults"
    (msg,) = resolve(hermod, "zed")
    assert code(msg) == "ErrorNameResolutionNoResults"
    # several entries: one response message each, in order
    msgs = resolve(hermod, "alice@example.test", "zzz", "bob")
    assert [code(m) for m in msgs] == ["NoError", "ErrorNameResolutionNoResults", "NoError"]
    assert mailboxes(msgs[2])[0][1] == "bob@example.test"
    # ReturnFullContactData: the directory entry as a contact
    (msg,) = resolve(hermod, "bob@example.test", full=True)
    c = msg.find("m:ResolutionSet/t:Resolution/t:Contact", NS)
    assert c.findtext("t:DisplayName", namespaces=NS) == "Bob Builder"
    assert c.findtext("t:EmailAddresses/t:Entry", namespaces=NS) == "SMTP:bob@example.test"
    assert c.findtext("t:ContactSource", namespaces=NS) == "ActiveDirectory"
    # the contacts folders alone are not the directory
    (msg,) = resolve(hermod, "bob@example.test", scope="Contacts")
    assert code(msg) == "ErrorNameResolutionNoResults"
    (msg,) = resolve(hermod, "bob@example.test", scope="ActiveDirectory")
    assert code(msg) == "NoError"


def test_resolve_names_bad_input(hermod):
    directory(hermod)
    (msg,) = resolve(hermod, "bob", scope="Everywhere")
    assert code(msg) == "ErrorInvalidRequest"
    (msg,) = messages(call(hermod, '<m:ResolveNames ReturnFullContactData="maybe">'
                           "<m:UnresolvedEntry>bob</m:UnresolvedEntry></m:ResolveNames>"))
    assert code(msg) == "ErrorInvalidRequest"
    (msg,) = messages(call(hermod, '<m:ResolveNames ReturnFullContactData="false"/>'))
    assert code(msg) == "ErrorSchemaValidation"
    (msg,) = resolve(hermod, "   ")
    assert code(msg) == "ErrorNameResolutionNoResults"
    (msg,) = resolve(hermod, "x" * 257)
    assert code(msg) == "ErrorNameResolutionNoResults"
    (msg,) = resolve(hermod, "x" * 256)
    assert code(msg) == "ErrorNameResolutionNoResults"
    # SQL wildcards are text
    (msg,) = resolve(hermod, "%")
    assert code(msg) == "ErrorNameResolutionNoResults"
    (msg,) = resolve(hermod, "_")
    assert code(msg) == "ErrorNameResolutionNoResults"
    msgs = resolve(hermod, *(["bob"] * 101))
    assert [code(m) for m in msgs] == ["ErrorInvalidRequest"]
    assert len(resolve(hermod, *(["bob"] * 100))) == 100


def expand(hermod, address, extra=""):
    (msg,) = messages(call(hermod, f"<m:ExpandDL><m:Mailbox><t:EmailAddress>{address}"
                           f"</t:EmailAddress>{extra}</m:Mailbox></m:ExpandDL>"))
    return msg


def test_expand_dl(hermod):
    directory(hermod)
    msg = expand(hermod, "team@example.test")
    assert code(msg) == "NoError", etree.tostring(msg)
    dl = msg.find("m:DLExpansion", NS)
    assert dl.get("TotalItemsInView") == "3" and dl.get("IncludesLastItemInRange") == "true"
    got = [(m.findtext("t:EmailAddress", namespaces=NS), m.findtext("t:MailboxType",
                                                                      namespaces=NS))
           for m in dl]
    # direct members only: the nested group is itself a member
    assert got == [("bob@example.test", "Mailbox"), ("carol@example.test", "Mailbox"),
                   ("leads@example.test", "PublicDL")]
    assert dl[0].findtext("t:Name", namespaces=NS) == "Bob Builder"
    msg = expand(hermod, "SMTP:Leads@Example.Test")
    assert [m.findtext("t:EmailAddress", namespaces=NS)
            for m in msg.find("m:DLExpansion", NS)] == ["alice@example.test"]
    # a user, nothing, another domain, a contact group by id: nothing to expand
    for addr in ("bob@example.test", "nobody@example.test", "team@elsewhere.test", ""):
        assert code(expand(hermod, addr)) == "ErrorNameResolutionNoResults", addr
    assert code(expand(hermod, "team@example.test",
                       '<t:ItemId Id="AAAA"/>')) == "ErrorNameResolutionNoResults"


def test_exchangelib_resolve_and_expand(hermod):
    directory(hermod)
    acct = account(hermod)
    (mb,) = acct.protocol.resolve_names(["bob@example.test"])
    assert mb.email_address == "bob@example.test" and mb.name == "Bob Builder"
    got = acct.protocol.resolve_names(["team"])
    assert sorted(m.email_address for m in got) == ["leads@example.test", "team@example.test"]
    ((mb, contact),) = acct.protocol.resolve_names(["carol"], return_full_contact_data=True)
    assert mb.email_address == "carol@example.test"
    assert contact.display_name == "Carol Danvers"
    # exchangelib hands back the error of an entry that resolves to nothing
    (none,) = acct.protocol.resolve_names(["no-such-person"])
    assert type(none).__name__ == "ErrorNameResolutionNoResults"
    members = acct.protocol.expand_dl("team@example.test")
    assert [m.email_address for m in members] == ["bob@example.test", "carol@example.test",
                                                  "leads@example.test"]
    assert members[2].mailbox_type == "PublicDL"
    assert ALICE[0] in [m.email_address for m in acct.protocol.expand_dl("leads@example.test")]
