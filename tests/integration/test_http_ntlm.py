"""NTLM authentication over HTTP (MS-NLMP as MS-NTHT carries it) on the EWS
route: the three-leg handshake on one connection, the connection staying
authenticated, every way it can go wrong, and exchangelib (requests_ntlm)
as the real client. The client side of NTLM is python3-ntlm-auth's."""
import base64
import hashlib
import http.client

import pytest
from ntlm_auth.ntlm import NtlmContext

from ewsutil import PATH, account, envelope

ALICE = ("alice@example.test", "alice-pw-1")
CAROL = ("carol@example.test", "carol-pw-1")  # no NT hash stored
GET_INBOX = envelope('<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape>'
                     '</m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="inbox"/>'
                     "</m:FolderIds></m:GetFolder>").encode()


@pytest.fixture(autouse=True)
def md4(monkeypatch):
    """Debian's OpenSSL 3 leaves MD4 (the NT hash) to its legacy provider,
    which Python's hashlib does not load; ntlm_auth gets it from
    pycryptodomex instead, for these tests only."""
    from Cryptodome.Hash import MD4
    real = hashlib.new

    class _Md4:
        def __init__(self, data=b""):
            self.h = MD4.new(data)

        def update(self, data):
            self.h.update(data)

        def digest(self):
            return self.h.digest()

    def new(name, data=b"", **kw):
        if name.lower() == "md4":
            return _Md4(data)
        return real(name, data, **kw)
    monkeypatch.setattr(hashlib, "new", new)


@pytest.fixture
def hermod(hermod_factory):
    """A server with NTLM turned on ([http] ntlm, off by default)."""
    return hermod_factory({"http": {"ntlm": "yes"}})


def users(hermod):
    hermod.add_user(*ALICE, "--name", "Alice Liddell", "--nt-hash")
    hermod.add_user(*CAROL)


def conn(hermod):
    return http.client.HTTPConnection("127.0.0.1", hermod.port("http"), timeout=10)


def post(c, auth=None):
    h = {"Content-Type": "text/xml; charset=utf-8"}
    if auth:
        h["Authorization"] = auth
    c.request("POST", PATH, GET_INBOX, h)
    r = c.getresponse()
    body = r.read()
    return r.status, r.getheader("WWW-Authenticate", ""), r.msg.get_all("WWW-Authenticate"), body


def handshake(c, user, password, scheme="NTLM"):
    """The three legs; returns the status of the authenticated request."""
    ctx = NtlmContext(user, password, domain="", workstation="TESTPC")
    neg = base64.b64encode(ctx.step()).decode()
    st, chal, _, _ = post(c, f"{scheme} {neg}")
    assert st == 401 and chal.startswith(scheme + " "), (st, chal)
    token = base64.b64decode(chal.split(" ", 1)[1])
    assert token.startswith(b"NTLMSSP\0\x02\0\0\0")
    auth = base64.b64encode(ctx.step(token)).decode()
    st, _, _, body = post(c, f"{scheme} {auth}")
    return st, body


def test_ntlm_handshake(hermod):
    users(hermod)
    c = conn(hermod)
    # without credentials: both schemes offered (Basic: loopback)
    st, _, offers, _ = post(c)
    assert st == 401 and "NTLM" in offers and any(o.startswith("Basic") for o in offers)
    st, body = handshake(c, *ALICE)
    assert st == 200 and b"NoError" in body
    # the connection is Alice's now: no header needed
    for _ in range(3):
        st, _, _, body = post(c)
        assert st == 200 and b"NoError" in body
    c.close()
    # another connection is not
    c = conn(hermod)
    assert post(c)[0] == 401
    # "Negotiate" with a raw NTLMSSP token is the same exchange
    st, _ = handshake(c, *ALICE, scheme="Negotiate")
    assert st == 200
    assert post(c)[0] == 200
    # a new handshake on an authenticated connection starts over
    st, _ = handshake(c, ALICE[0], "wrong password")
    assert st == 401
    assert post(c)[0] == 401
    c.close()
    log = hermod.log_text()
    assert "NTLM login alice@example.test" in log


def test_ntlm_refused(hermod):
    users(hermod)
    c = conn(hermod)
    # wrong password, unknown user, a user without an NT hash
    for user, pw in ((ALICE[0], "nope"), ("nobody@example.test", "x"), CAROL):
        st, _ = handshake(c, user, pw)
        assert st == 401, user
        assert post(c)[0] == 401
    # an AUTHENTICATE nobody challenged: build one against a challenge of
    # another connection
    other = conn(hermod)
    ctx = NtlmContext(*ALICE, domain="", workstation="TESTPC")
    st, chal, _, _ = post(other, "NTLM " + base64.b64encode(ctx.step()).decode())
    auth = base64.b64encode(ctx.step(base64.b64decode(chal.split(" ", 1)[1]))).decode()
    assert post(c, "NTLM " + auth)[0] == 401
    # ...and it does not work twice on its own connection either
    assert post(other, "NTLM " + auth)[0] == 200
    c2 = conn(hermod)
    assert post(c2, "NTLM " + auth)[0] == 401
    # malformed: not base64, not NTLMSSP, a CHALLENGE from the client,
    # a truncated NEGOTIATE, a header past the limit
    for bad in ("NTLM !!!", "NTLM " + base64.b64encode(b"hello world!").decode(),
                "NTLM " + base64.b64encode(b"NTLMSSP\0\x02\0\0\0" + b"\0" * 40).decode(),
                "NTLM " + base64.b64encode(b"NTLMSSP\0\x01\0\0\0").decode(),
                "NTLM", "NTLM " + "A" * 20000):
        st = post(c2, bad)[0]
        assert st in (401, 431), (bad[:40], st)
        if st == 431:
            c2.close()
            c2 = conn(hermod)
    # the server is still fine
    assert handshake(conn(hermod), *ALICE)[0] == 200


def test_ntlm_off(hermod_factory):
    h = hermod_factory()  # the default
    users(h)
    c = conn(h)
    st, _, offers, _ = post(c)
    assert st == 401 and "NTLM" not in offers
    ctx = NtlmContext(*ALICE, domain="", workstation="TESTPC")
    st, chal, _, _ = post(c, "NTLM " + base64.b64encode(ctx.step()).decode())
    assert st == 401 and not chal.startswith("NTLM ")


def test_ntlm_exchangelib(hermod):
    users(hermod)
    import exchangelib as ex
    from exchangelib import BaseProtocol, NoVerifyHTTPAdapter
    from exchangelib.version import EXCHANGE_2016, Version
    BaseProtocol.HTTP_ADAPTER_CLS = NoVerifyHTTPAdapter
    for scheme, port in (("https", hermod.port("http", "listen_tls")),
                         ("http", hermod.port("http"))):
        cfg = ex.Configuration(service_endpoint=f"{scheme}://127.0.0.1:{port}{PATH}",
                               credentials=ex.Credentials(*ALICE), auth_type=ex.NTLM,
                               version=Version(EXCHANGE_2016))
        acct = ex.Account(ALICE[0], config=cfg, autodiscover=False, access_type=ex.DELEGATE)
        m = ex.Message(account=acct, folder=acct.drafts, subject=f"over NTLM {scheme}")
        m.save()
        assert [i.subject for i in acct.drafts.all()].count(f"over NTLM {scheme}") == 1
        assert acct.protocol.resolve_names([ALICE[0]])[0].email_address == ALICE[0]
    # the same account with Basic still works beside it
    assert account(hermod, user=ALICE).inbox.total_count == 0
