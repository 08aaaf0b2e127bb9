"""AUTHENTICATE NTLM (MS-OXIMAP4 2.2.1, 3.1.5.1) with impacket's NTLMv2
client over a raw IMAP connection: the user@domain and DOMAIN\\user forms,
SASL-IR, a wrong password, a user without an NT hash, cancel and garbage,
off by default, offered before TLS."""
import base64

from imap_util import PASSWORD, Raw


def ntlm_server(hermod_factory, **imap):
    h = hermod_factory({"imap": {"ntlm": "yes", **imap}})
    h.add_user("alice@example.test", PASSWORD, "--nt-hash")
    h.add_user("bob@example.test", PASSWORD)
    return h


def ntlm_auth(h, user, password, domain="", ir=False):
    """Runs the exchange; returns (tagged line, raw client)."""
    from impacket import ntlm
    r = Raw(h.port("imap"))
    t1 = ntlm.getNTLMSSPType1("", "", signingRequired=True)
    b1 = base64.b64encode(t1.getData()).decode()
    if ir:
        r.send(f"a1 AUTHENTICATE NTLM {b1}\r\n")
    else:
        r.send("a1 AUTHENTICATE NTLM\r\n")
        assert r.line() == "+ "
        r.send(b1 + "\r\n")
    line = r.line()
    if not line.startswith("+ "):
        return line, r
    challenge = base64.b64decode(line[2:])
    t3, _ = ntlm.getNTLMSSPType3(t1, challenge, user, password, domain)
    r.send(base64.b64encode(t3.getData()) + b"\r\n")
    return r.until("a1")[1], r


def test_ntlm_login(hermod_factory):
    h = ntlm_server(hermod_factory)
    r = Raw(h.port("imap"))
    assert "AUTH=NTLM" in r.greeting
    r.close()
    tagged, r = ntlm_auth(h, "alice@example.test", PASSWORD)
    assert tagged.startswith("a1 OK [CAPABILITY"), tagged
    lines, tagged = r.cmd("a2 SELECT INBOX")
    assert tagged.startswith("a2 OK")
    r.close()
    # DOMAIN\user with our DNS domain; SASL-IR.
    tagged, r = ntlm_auth(h, "alice", PASSWORD, "example.test", ir=True)
    assert tagged.startswith("a1 OK"), tagged
    r.close()
    tagged, r = ntlm_auth(h, "alice@example.test", "wrong")
    assert tagged.startswith("a1 NO [AUTHENTICATIONFAILED]"), tagged
    # Still not logged in.
    assert r.cmd("a3 SELECT INBOX")[1].startswith("a3 BAD")
    r.close()
    # bob has no NT hash: NTLM cannot work for him.
    tagged, r = ntlm_auth(h, "bob@example.test", PASSWORD)
    assert tagged.startswith("a1 NO [AUTHENTICATIONFAILED]"), tagged
    r.close()


def test_ntlm_refusals(hermod_factory):
    h = ntlm_server(hermod_factory)
    r = Raw(h.port("imap"))
    r.send("a1 AUTHENTICATE NTLM\r\n")
    assert r.line() == "+ "
    r.send("*\r\n")
    assert r.until("a1")[1].startswith("a1 BAD")
    r.send("a2 AUTHENTICATE NTLM\r\n")
    r.line()
    r.send("!!!\r\n")
    assert r.until("a2")[1].startswith("a2 BAD")
    r.send("a3 AUTHENTICATE NTLM " + base64.b64encode(b"NTLMSSP\0garbage").decode() + "\r\n")
    assert r.until("a3")[1].startswith("a3 NO [AUTHENTICATIONFAILED]")
    # An AUTHENTICATE_MESSAGE that is garbage after a good NEGOTIATE.
    from impacket import ntlm
    t1 = ntlm.getNTLMSSPType1("", "", signingRequired=True)
    r.send("a4 AUTHENTICATE NTLM " + base64.b64encode(t1.getData()).decode() + "\r\n")
    assert r.line().startswith("+ ")
    r.send(base64.b64encode(b"NTLMSSP\0\3\0\0\0" + b"\xff" * 40) + b"\r\n")
    assert r.until("a4")[1].startswith("a4 NO [AUTHENTICATIONFAILED]")
    r.close()


def test_ntlm_off_by_default_and_before_tls(hermod_factory):
    h = hermod_factory()
    h.add_user("alice@example.test", PASSWORD, "--nt-hash")
    r = Raw(h.port("imap"))
    assert "AUTH=NTLM" not in r.greeting
    assert r.cmd("a1 AUTHENTICATE NTLM")[1].startswith("a1 NO")
    r.close()
    # NTLM sends no password: offered where plain-text logins are not.
    h2 = ntlm_server(hermod_factory, loopback_secure="no")
    r = Raw(h2.port("imap"))
    assert "LOGINDISABLED" in r.greeting and "AUTH=NTLM" in r.greeting
    assert "AUTH=PLAIN" not in r.greeting
    r.close()
    tagged, r = ntlm_auth(h2, "alice@example.test", PASSWORD)
    assert tagged.startswith("a1 OK"), tagged
    r.close()
