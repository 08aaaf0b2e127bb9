"""Helpers for the EWS integration tests: raw SOAP requests (for what a
library would never send: hostile input, forged ids, exact responses) and
exchangelib accounts (the real client), by service endpoint or through
Autodiscover."""
from lxml import etree

from httputil import request

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
E = "http://schemas.microsoft.com/exchange/services/2006/errors"
NS = {"s": SOAP, "m": M, "t": T, "e": E}
PATH = "/EWS/Exchange.asmx"
ALICE = ("alice@example.test", "alice-pw-1")
BOB = ("bob@example.test", "bob-pw-1")


def add_users(hermod):
    hermod.add_user(*ALICE, "--name", "Alice Liddell")
    hermod.add_user(*BOB, "--name", "Bob Builder")


def envelope(body, version="Exchange2016", header=""):
    ver = f'<t:RequestServerVersion Version="{version}"/>' if version else ""
    return (f'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{SOAP}" '
            f'xmlns:m="{M}" xmlns:t="{T}"><s:Header>{ver}{header}</s:Header>'
            f"<s:Body>{body}</s:Body></s:Envelope>")


def post(hermod, data, auth=ALICE, tls=False, headers=None):
    h = {"Content-Type": "text/xml; charset=utf-8"}
    h.update(headers or {})
    return request(hermod, "POST", PATH, data, h, auth=auth, tls=tls)


def call(hermod, body, auth=ALICE, version="Exchange2016", header="", status=200):
    """Posts one operation; returns the response element in the Body."""
    st, _, data = post(hermod, envelope(body, version, header), auth=auth)
    assert st == status, (st, data[:2000])
    root = etree.fromstring(data)
    return root.find(f"{{{SOAP}}}Body")[0]


def messages(resp):
    """The ResponseMessages children of an operation's response."""
    rm = resp.find("m:ResponseMessages", NS)
    assert rm is not None, etree.tostring(resp)
    return list(rm)


def code(msg):
    return msg.findtext("m:ResponseCode", namespaces=NS)


def fault_code(resp):
    assert resp.tag == f"{{{SOAP}}}Fault", etree.tostring(resp)
    return resp.findtext("detail/e:ResponseCode", namespaces=NS)


def folder_shape(base="Default", extra=()):
    add = "".join(f'<t:FieldURI FieldURI="{f}"/>' for f in extra)
    add = f"<t:AdditionalProperties>{add}</t:AdditionalProperties>" if add else ""
    return f"<m:FolderShape><t:BaseShape>{base}</t:BaseShape>{add}</m:FolderShape>"


def get_folder(hermod, refs, base="Default", extra=(), auth=ALICE):
    return call(hermod, f"<m:GetFolder>{folder_shape(base, extra)}<m:FolderIds>{refs}"
                "</m:FolderIds></m:GetFolder>", auth=auth)


def dist(name):
    return f'<t:DistinguishedFolderId Id="{name}"/>'


def fid(folder_id, change_key=None):
    ck = f' ChangeKey="{change_key}"' if change_key else ""
    return f'<t:FolderId Id="{folder_id}"{ck}/>'


# --- exchangelib ---

def _exchangelib():
    import exchangelib
    from exchangelib import BaseProtocol, NoVerifyHTTPAdapter
    BaseProtocol.HTTP_ADAPTER_CLS = NoVerifyHTTPAdapter
    return exchangelib


def account(hermod, user=ALICE, tls=True, version=True):
    """An exchangelib Account on the service endpoint with Basic auth. With
    version=False exchangelib guesses the server version itself."""
    ex = _exchangelib()
    from exchangelib.version import EXCHANGE_2016, Version
    scheme, port = ("https", hermod.port("http", "listen_tls")) if tls else \
        ("http", hermod.port("http"))
    creds = ex.Credentials(*user)
    cfg = ex.Configuration(service_endpoint=f"{scheme}://127.0.0.1:{port}{PATH}",
                           credentials=creds, auth_type=ex.BASIC,
                           version=Version(EXCHANGE_2016) if version else None)
    return ex.Account(user[0], config=cfg, autodiscover=False, access_type=ex.DELEGATE)


def account_autodiscover(hermod, user=ALICE):
    """An exchangelib Account found through its POX Autodiscover. The DNS
    steps (https://example.test/...) cannot reach a test server, so the
    Autodiscover endpoint is put in exchangelib's cache, as a client that
    already found it would have; the request, the response and the EWS URL
    taken from it are exchangelib's own."""
    ex = _exchangelib()
    from exchangelib.autodiscover import autodiscover_cache
    from exchangelib.autodiscover.protocol import AutodiscoverProtocol
    creds = ex.Credentials(*user)
    port = hermod.port("http", "listen_tls")
    url = f"https://127.0.0.1:{port}/Autodiscover/Autodiscover.xml"
    domain = user[0].split("@", 1)[1]
    autodiscover_cache[(domain, creds)] = AutodiscoverProtocol(
        config=ex.Configuration(service_endpoint=url, credentials=creds, auth_type=ex.BASIC))
    try:
        return ex.Account(user[0], credentials=creds, autodiscover=True,
                          access_type=ex.DELEGATE)
    finally:
        autodiscover_cache.clear()
