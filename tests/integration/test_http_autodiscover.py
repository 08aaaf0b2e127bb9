"""Autodiscover through the real server: POX (MS-OXDSCLI) and SOAP
(MS-OXWSADISC) over the shared HTTP core, authentication, errors, and
hostile XML."""
import http.client

from lxml import etree

from httputil import request

POX_REQ = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
POX_RESP = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
OUTLOOK = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
MOBILE_REQ = "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006"
MOBILE = "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"
AD = "http://schemas.microsoft.com/exchange/2010/Autodiscover"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
ALICE = ("alice@example.test", "alice-pw-1")


def pox_body(email, schema=OUTLOOK, ns=POX_REQ):
    return (f'<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="{ns}"><Request>'
            f"<EMailAddress>{email}</EMailAddress>"
            f"<AcceptableResponseSchema>{schema}</AcceptableResponseSchema>"
            "</Request></Autodiscover>")


def soap_body(op, inner):
    return (f'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{SOAP}" '
            f'xmlns:a="{AD}" xmlns:wsa="http://www.w3.org/2005/08/addressing"><s:Header>'
            "<a:RequestedServerVersion>Exchange2013</a:RequestedServerVersion>"
            f"<wsa:Action>{AD}/Autodiscover/{op}</wsa:Action></s:Header><s:Body>"
            f"<a:{op}RequestMessage><a:Request>{inner}</a:Request></a:{op}RequestMessage>"
            "</s:Body></s:Envelope>")


def add_users(hermod):
    hermod.add_user(*ALICE, "--name", "Alice Liddell")
    hermod.add_user("bob@example.test", "bob-pw-1")


def pox(hermod, body, auth=ALICE, path="/autodiscover/autodiscover.xml", tls=False):
    st, hdrs, data = request(hermod, "POST", path, body, {"Content-Type": "text/xml"},
                             auth=auth, tls=tls)
    return st, hdrs, data


def pox_error_code(data):
    root = etree.fromstring(data)
    assert root.tag == f"{{{POX_RESP}}}Autodiscover"
    return root.findtext(f"{{{POX_RESP}}}Response/{{{POX_RESP}}}Error/{{{POX_RESP}}}ErrorCode")


def test_pox_outlook(hermod):
    add_users(hermod)
    for tls in (False, True):
        st, hdrs, data = pox(hermod, pox_body("ALICE@example.test"), tls=tls)
        assert st == 200, data
        assert hdrs["content-type"].startswith("text/xml")
        root = etree.fromstring(data)
        resp = root.find(f"{{{OUTLOOK}}}Response")
        assert resp is not None, data
        user = resp.find(f"{{{OUTLOOK}}}User")
        assert user.findtext(f"{{{OUTLOOK}}}DisplayName") == "Alice Liddell"
        assert user.findtext(f"{{{OUTLOOK}}}AutoDiscoverSMTPAddress") == "alice@example.test"
        assert user.findtext(f"{{{OUTLOOK}}}LegacyDN").startswith("/o=hermod/ou=Exchange")
        acct = resp.find(f"{{{OUTLOOK}}}Account")
        assert acct.findtext(f"{{{OUTLOOK}}}Action") == "settings"
        types = [p.findtext(f"{{{OUTLOOK}}}Type") for p in acct.findall(f"{{{OUTLOOK}}}Protocol")]
        assert types == ["EXCH", "EXPR", "WEB"]
        exch = acct.find(f"{{{OUTLOOK}}}Protocol")
        assert exch.findtext(f"{{{OUTLOOK}}}Server").endswith("@example.test")
        assert exch.findtext(f"{{{OUTLOOK}}}ServerVersion") == "73C189CB"
        # EWS is served: the EXCH and EXPR protocols carry its URL
        # (scheme and host as the client reached us).
        scheme = "https" if tls else "http"
        port = hermod.port("http", "listen_tls" if tls else "listen")
        ews = f"{scheme}://127.0.0.1:{port}/EWS/Exchange.asmx"
        assert exch.findtext(f"{{{OUTLOOK}}}EwsUrl") == ews
        assert exch.findtext(f"{{{OUTLOOK}}}ASUrl") == ews


def test_pox_errors(hermod):
    add_users(hermod)
    # unknown address: 500
    st, _, data = pox(hermod, pox_body("nobody@example.test"))
    assert st == 200 and pox_error_code(data) == "500"
    # malformed XML and wrong root: 600
    for body in ("<Autodiscover", "<x/>", pox_body("alice@example.test", ns="urn:wrong"),
                 "<Autodiscover xmlns=\"%s\"/>" % POX_REQ):
        st, _, data = pox(hermod, body)
        assert st == 200 and pox_error_code(data) == "600", (body, data)
    # a response schema we do not provide: 601
    st, _, data = pox(hermod, pox_body("alice@example.test", schema="urn:other"))
    assert pox_error_code(data) == "601"
    # mobilesync: no ActiveSync served yet
    st, _, data = pox(hermod, pox_body("alice@example.test", schema=MOBILE, ns=MOBILE_REQ))
    assert pox_error_code(data) == "601"
    # paths are case-insensitive, methods are not all welcome
    st, _, data = pox(hermod, pox_body("alice@example.test"),
                      path="/AutoDiscover/AutoDiscover.XML")
    assert st == 200 and b"Alice Liddell" in data
    st, hdrs, _ = request(hermod, "GET", "/autodiscover/autodiscover.xml", auth=ALICE)
    assert st == 405 and hdrs["allow"] == "POST"
    st, _, _ = request(hermod, "GET", "/nothing/here")
    assert st == 404


def test_autodiscover_needs_credentials(hermod):
    add_users(hermod)
    st, hdrs, _ = pox(hermod, pox_body("alice@example.test"), auth=None)
    assert st == 401
    assert hdrs["www-authenticate"].startswith('Basic realm="mail.example.test"')
    st, _, _ = pox(hermod, pox_body("alice@example.test"), auth=("alice@example.test", "no"))
    assert st == 401
    st, _, _ = pox(hermod, pox_body("alice@example.test"), auth="Basic ####")
    assert st == 401
    # bob may look alice up (a directory lookup he can do anyway)
    st, _, data = pox(hermod, pox_body("alice@example.test"), auth=("bob@example.test", "bob-pw-1"))
    assert st == 200 and b"Alice Liddell" in data


def test_hostile_xml(hermod):
    add_users(hermod)
    xxe = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           f'<Autodiscover xmlns="{POX_REQ}"><Request><EMailAddress>&x;</EMailAddress>'
           f"<AcceptableResponseSchema>{OUTLOOK}</AcceptableResponseSchema></Request>"
           "</Autodiscover>")
    st, _, data = pox(hermod, xxe)
    assert st == 200 and pox_error_code(data) == "600"
    assert b"root:" not in data
    lol = '<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">'
    for i in range(1, 10):
        lol += f'<!ENTITY a{i} "' + f"&a{i - 1 if i > 1 else ''};" * 10 + '">'
    laughs = f'<?xml version="1.0"?><!DOCTYPE r [{lol}]><r>&a9;</r>'
    st, _, data = pox(hermod, laughs)
    assert st == 200 and pox_error_code(data) == "600"
    st, _, data = pox(hermod, soap_body("GetUserSettings", "") .replace(
        "<s:Envelope", '<!DOCTYPE s:Envelope [<!ENTITY x SYSTEM "file:///etc/passwd">]><s:Envelope', 1),
        path="/autodiscover/autodiscover.svc")
    assert st == 500 and b"Fault" in data
    # deep nesting
    st, _, data = pox(hermod, "<a>" * 5000 + "</a>" * 5000)
    assert pox_error_code(data) == "600"
    # too large: 413 before the body is read
    st, _, _ = pox(hermod, "<a>" + "x" * 70000 + "</a>")
    assert st == 413
    # still serving
    st, _, data = pox(hermod, pox_body("alice@example.test"))
    assert st == 200 and b"Alice Liddell" in data


def user_settings(hermod, users, settings, auth=ALICE):
    inner = "<a:Users>" + "".join(f"<a:User><a:Mailbox>{u}</a:Mailbox></a:User>" for u in users)
    inner += "</a:Users><a:RequestedSettings>"
    inner += "".join(f"<a:Setting>{s}</a:Setting>" for s in settings)
    inner += "</a:RequestedSettings>"
    st, hdrs, data = request(hermod, "POST", "/autodiscover/autodiscover.svc",
                             soap_body("GetUserSettings", inner),
                             {"Content-Type": "text/xml; charset=utf-8"}, auth=auth)
    return st, data


def test_soap_get_user_settings(hermod):
    add_users(hermod)
    st, data = user_settings(hermod, ["alice@example.test", "ghost@example.test"],
                             ["UserDisplayName", "UserDN", "AutoDiscoverSMTPAddress",
                              "EwsSupportedSchemas", "CasVersion", "ExternalEwsUrl",
                              "NoSuchSetting"])
    assert st == 200, data
    root = etree.fromstring(data)
    hdr = root.find(f"{{{SOAP}}}Header")
    assert hdr.find(f"{{{AD}}}ServerVersionInfo/{{{AD}}}MajorVersion").text == "15"
    assert hdr.findtext("{http://www.w3.org/2005/08/addressing}Action").endswith(
        "GetUserSettingsResponse")
    resp = root.find(f"{{{SOAP}}}Body/{{{AD}}}GetUserSettingsResponseMessage/{{{AD}}}Response")
    assert resp.findtext(f"{{{AD}}}ErrorCode") == "NoError"
    users = resp.findall(f"{{{AD}}}UserResponses/{{{AD}}}UserResponse")
    assert len(users) == 2
    got = {s.findtext(f"{{{AD}}}Name"): s.findtext(f"{{{AD}}}Value")
           for s in users[0].findall(f"{{{AD}}}UserSettings/{{{AD}}}UserSetting")}
    assert got["UserDisplayName"] == "Alice Liddell"
    assert got["AutoDiscoverSMTPAddress"] == "alice@example.test"
    assert got["UserDN"].startswith("/o=hermod/")
    assert "Exchange2016" in got["EwsSupportedSchemas"]
    assert got["CasVersion"] == "15.01.2507.006"
    port = hermod.port("http")
    assert got["ExternalEwsUrl"] == f"http://127.0.0.1:{port}/EWS/Exchange.asmx"
    errs = {e.findtext(f"{{{AD}}}SettingName"): e.findtext(f"{{{AD}}}ErrorCode")
            for e in users[0].findall(f"{{{AD}}}UserSettingErrors/{{{AD}}}UserSettingError")}
    assert errs == {"NoSuchSetting": "InvalidSetting"}
    assert users[1].findtext(f"{{{AD}}}ErrorCode") == "InvalidUser"


def test_soap_domain_settings_and_faults(hermod):
    add_users(hermod)
    inner = ("<a:Domains><a:Domain>example.test</a:Domain><a:Domain>elsewhere.test</a:Domain>"
             "</a:Domains><a:RequestedSettings><a:Setting>ExternalEwsVersion</a:Setting>"
             "</a:RequestedSettings>")
    st, _, data = request(hermod, "POST", "/autodiscover/autodiscover.svc",
                          soap_body("GetDomainSettings", inner), auth=ALICE)
    assert st == 200, data
    root = etree.fromstring(data)
    doms = root.findall(f".//{{{AD}}}DomainResponse")
    assert [d.findtext(f"{{{AD}}}ErrorCode") for d in doms] == ["NoError", "InvalidDomain"]
    assert doms[0].findtext(f".//{{{AD}}}Value") == "15.01.2507.006"
    # an operation that does not exist: a SOAP fault
    st, _, data = request(hermod, "POST", "/autodiscover/autodiscover.svc",
                          soap_body("GetFederationInformation", ""), auth=ALICE)
    assert st == 500
    fault = etree.fromstring(data).find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault")
    assert fault.findtext("faultcode") == "a:ActionNotSupported"
    # not SOAP at all
    st, _, data = request(hermod, "POST", "/autodiscover/autodiscover.svc", "<x/>", auth=ALICE)
    assert st == 500 and b"s:Client" in data
    # too many users
    st, data = user_settings(hermod, ["u%d@example.test" % i for i in range(101)],
                             ["UserDN"])
    assert b"InvalidRequest" in data


def test_keepalive_and_pipelining(hermod):
    add_users(hermod)
    conn = http.client.HTTPConnection("127.0.0.1", hermod.port("http"), timeout=10)
    from httputil import basic
    for i in range(5):
        conn.request("POST", "/autodiscover/autodiscover.xml", pox_body("alice@example.test"),
                     {"Authorization": basic(*ALICE)})
        r = conn.getresponse()
        assert r.status == 200 and b"Alice Liddell" in r.read()
    conn.close()
    # one password hash per connection: the log shows one Basic login
    assert hermod.log_text().count("Basic login alice@example.test") == 1
