"""Small HTTP helpers for the HTTP-based protocols' integration tests:
requests over http.client to the server's [http] listeners, plain or TLS
(the self-signed certificate is not verified), with Basic credentials."""
import base64
import http.client
import ssl


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def request(hermod, method, path, body=None, headers=None, tls=False, auth=None,
            timeout=30):
    """One request on a fresh connection; returns (status, headers dict with
    lower-cased names, body bytes)."""
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", hermod.port("http", "listen_tls"),
                                           timeout=timeout, context=ctx)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", hermod.port("http"), timeout=timeout)
    h = dict(headers or {})
    if auth is not None:
        h["Authorization"] = basic(*auth) if isinstance(auth, tuple) else auth
    if isinstance(body, str):
        body = body.encode()
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    status = r.status
    conn.close()
    return status, hdrs, data
