"""Message submission (RFC 6409) on 2587 (STARTTLS) and 2465 (implicit
TLS): AUTH PLAIN, LOGIN (MS-XLOGIN) and NTLM (MS-OXSMTP, with impacket as
the client), authentication before MAIL, AUTH refused before TLS,
failed-AUTH limits and throttling, and the sender checks (envelope and
From: must be the user's, or granted with `hermod user send-as`)."""
import email
import base64
import smtplib
import ssl
import subprocess

import pytest

from smtputil import Raw, mailbox_messages

PW = "Secret-pass-1"


def tls_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


@pytest.fixture
def sub(hermod_factory):
    h = hermod_factory(overrides={"smtp": {"allow_plaintext_loopback": "no", "ntlm": "yes"},
                                  "auth": {"max_failures_per_user": "5"}})
    h.add_user("alice@example.test", PW, "--nt-hash")
    h.add_user("bob@example.test", PW)
    h.cli("user", "alias", "add", "alice@example.test", "ali@example.test")
    return h


def session(h, login=True):
    s = smtplib.SMTP("127.0.0.1", h.port("smtp", "listen_submission"), timeout=20)
    s.ehlo("client.test")
    s.starttls(context=tls_ctx())
    s.ehlo("client.test")
    if login:
        s.login("alice@example.test", PW)
    return s


MSG = b"From: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: sub\r\n\r\nhi\r\n"


def test_auth_not_offered_before_tls(sub):
    r = Raw(sub.port("smtp", "listen_submission"))
    r.reply()
    code, lines = r.cmd("EHLO client.test")
    assert "250-STARTTLS" in lines
    assert not any("AUTH" in ln for ln in lines)
    creds = base64.b64encode(b"\0alice@example.test\0" + PW.encode()).decode()
    code, lines = r.cmd("AUTH PLAIN " + creds)
    assert code == 538 and lines[0].startswith("538 5.7.11")
    code, lines = r.cmd("MAIL FROM:<alice@example.test>")
    assert code == 530 and lines[0].startswith("530 5.7.0")
    r.cmd("QUIT")


def test_auth_plain_login_and_send(sub):
    s = session(sub, login=False)
    assert "auth" in s.esmtp_features
    assert s.esmtp_features["auth"].split() == ["PLAIN", "LOGIN", "NTLM"]
    s.login("alice@example.test", PW)   # smtplib tries CRAM-MD5, PLAIN, LOGIN
    s.sendmail("alice@example.test", ["bob@example.test"], MSG)
    s.quit()
    # LOGIN explicitly.
    s = session(sub, login=False)
    s.user, s.password = "alice@example.test", PW
    code, _ = s.auth("LOGIN", s.auth_login, initial_response_ok=False)
    assert code == 235
    s.sendmail("ali@example.test", ["bob@example.test"], MSG)   # an alias of alice
    s.quit()
    msgs = mailbox_messages(sub, "bob@example.test")
    assert len(msgs) == 2
    assert b"with ESMTPSA id" in msgs[0][1]


def test_auth_raw_exchanges(sub):
    r = Raw(sub.port("smtp", "listen_submission"))
    r.reply()
    r.cmd("EHLO client.test")
    assert r.cmd("STARTTLS")[0] == 220
    r.starttls()
    assert r.cmd("MAIL FROM:<alice@example.test>")[1][0].startswith("503 5.5.1")
    r.cmd("EHLO client.test")
    # PLAIN without an initial response, cancelled with "*".
    assert r.cmd("AUTH PLAIN")[1][0] == "334 "
    assert r.cmd("*")[1][0].startswith("501 5.0.0")
    assert r.cmd("AUTH CRAM-MD5")[1][0].startswith("504 5.5.4")
    assert r.cmd("AUTH PLAIN !!!")[1][0].startswith("501 5.5.2")
    # LOGIN with the user name as initial response (MS-XLOGIN).
    code, lines = r.cmd("AUTH LOGIN " + base64.b64encode(b"alice@example.test").decode())
    assert lines[0] == "334 UGFzc3dvcmQ6"
    code, lines = r.cmd(base64.b64encode(PW.encode()).decode())
    assert code == 235 and lines[0].startswith("235 2.7.0")
    assert r.cmd("AUTH PLAIN")[1][0].startswith("503 5.5.1")   # already authenticated
    r.cmd("QUIT")


def test_wrong_password_limits(sub):
    r = Raw(sub.port("smtp", "listen_submissions"), tls=True)
    r.reply()
    r.cmd("EHLO client.test")
    bad = base64.b64encode(b"\0alice@example.test\0wrong").decode()
    for i in range(2):
        code, lines = r.cmd("AUTH PLAIN " + bad)
        assert code == 535 and lines[0].startswith("535 5.7.8")
    code, lines = r.cmd("AUTH PLAIN " + bad)
    assert code == 535
    code, lines = r.reply()
    assert code == 421 and lines[0].startswith("421 4.7.0")
    assert r.closed()
    # The per-user throttle (5 failures here) then refuses even the right
    # password with 454 4.7.0, on a new connection.
    r = Raw(sub.port("smtp", "listen_submissions"), tls=True)
    r.reply()
    r.cmd("EHLO client.test")
    r.cmd("AUTH PLAIN " + bad)
    r.cmd("AUTH PLAIN " + bad)
    good = base64.b64encode(b"\0alice@example.test\0" + PW.encode()).decode()
    code, lines = r.cmd("AUTH PLAIN " + good)
    assert code == 454 and lines[0].startswith("454 4.7.0")
    r.close()


def test_authzid_must_match(sub):
    s = session(sub, login=False)
    creds = base64.b64encode(b"bob@example.test\0alice@example.test\0" + PW.encode()).decode()
    code, msg = s.docmd("AUTH", "PLAIN " + creds)
    assert code == 535
    s.quit()


def test_implicit_tls_port(sub):
    s = smtplib.SMTP_SSL("127.0.0.1", sub.port("smtp", "listen_submissions"), timeout=20,
                         context=tls_ctx())
    s.ehlo("client.test")
    assert "starttls" not in s.esmtp_features
    assert "auth" in s.esmtp_features
    s.login("alice@example.test", PW)
    s.sendmail("alice@example.test", ["bob@example.test"], MSG)
    s.quit()
    assert len(mailbox_messages(sub, "bob@example.test")) == 1


def test_sender_must_be_the_users(sub):
    s = session(sub)
    code, msg = s.mail("bob@example.test")
    assert code == 553 and msg.startswith(b"5.7.1")
    code, msg = s.mail("")
    assert code == 553
    code, msg = s.mail("alice@remote.test")
    assert code == 553
    # Envelope fine, From: header someone else's: refused after DATA.
    assert s.mail("alice@example.test")[0] == 250
    assert s.rcpt("bob@example.test")[0] == 250
    code, msg = s.data(b"From: Bob <bob@example.test>\r\nSubject: forged\r\n\r\nhi\r\n")
    assert code == 550 and msg.startswith(b"5.7.1")
    # Several From: addresses, all alice's (primary and alias): fine.
    assert s.mail("alice@example.test")[0] == 250
    assert s.rcpt("bob@example.test")[0] == 250
    code, _ = s.data(b"From: A <alice@example.test>, \"Ali\" <ali@example.test>\r\n"
                     b"Subject: ok\r\n\r\nhi\r\n")
    assert code == 250
    # Folded From: with a forged second address.
    assert s.mail("alice@example.test")[0] == 250
    assert s.rcpt("bob@example.test")[0] == 250
    code, _ = s.data(b"From: A <alice@example.test>,\r\n\tMallory <mallory@example.test>\r\n"
                     b"Subject: bad\r\n\r\nhi\r\n")
    assert code == 550
    s.quit()
    assert len(mailbox_messages(sub, "bob@example.test")) == 1


def test_send_as_grants(sub):
    """Exchange's Send As: a user granted on another user (by any of its
    addresses) or on a group sends as it, envelope and From:, delivered
    with that From:; without the grant, or once it is revoked, 553 5.7.1
    at MAIL and 550 5.7.1 after DATA."""
    sub.add_user("shared@example.test", PW)
    sub.cli("user", "alias", "add", "shared@example.test", "info@example.test")
    sub.cli("group", "add", "sales@example.test", "--name", "Sales")
    sub.cli("group", "member", "add", "sales@example.test", "bob@example.test")

    def msg(frm, subject):
        return (f"From: {frm}\r\nTo: bob@example.test\r\nSubject: {subject}\r\n\r\n"
                "hi\r\n").encode()

    def refused(s, sender, frm, own="alice@example.test"):
        code, text = s.mail(sender)
        assert code == 553 and text.startswith(b"5.7.1"), (sender, code, text)
        assert s.mail(own)[0] == 250
        assert s.rcpt("bob@example.test")[0] == 250
        code, text = s.data(msg(frm, "refused"))
        assert code == 550 and text.startswith(b"5.7.1"), (frm, code, text)

    s = session(sub)
    for target in ("shared@example.test", "info@example.test", "sales@example.test"):
        refused(s, target, f"X <{target}>")
    sub.cli("user", "send-as", "add", "alice@example.test", "shared@example.test")
    sub.cli("user", "send-as", "add", "alice@example.test", "sales@example.test")
    # The server sees the grants at once, in a session opened before them.
    s.sendmail("shared@example.test", ["bob@example.test"], msg("Shared <shared@example.test>",
                                                                "as shared"))
    s.sendmail("info@example.test", ["bob@example.test"], msg("info@example.test", "as info"))
    s.sendmail("sales@example.test", ["bob@example.test"], msg("Sales <sales@example.test>",
                                                               "as sales"))
    s.sendmail("alice@example.test", ["bob@example.test"],
               msg("A <alice@example.test>, Shared <shared@example.test>", "as both"))
    # One From: address not granted spoils the lot.
    refused(s, "bob@example.test", "Shared <shared@example.test>, Bob <bob@example.test>")
    s.quit()
    got = [email.message_from_bytes(m[1]) for m in mailbox_messages(sub, "bob@example.test")]
    assert [(m["Subject"], m["From"]) for m in got] == [
        ("as shared", "Shared <shared@example.test>"),
        ("as info", "info@example.test"),
        ("as sales", "Sales <sales@example.test>"),
        ("as both", "A <alice@example.test>, Shared <shared@example.test>")]
    # Another user has no such grant.
    s = session(sub, login=False)
    s.login("bob@example.test", PW)
    refused(s, "shared@example.test", "shared@example.test", own="bob@example.test")
    s.quit()
    # Revoked: refused again; the other grant stays.
    sub.cli("user", "send-as", "del", "alice@example.test", "info@example.test")
    s = session(sub)
    refused(s, "shared@example.test", "Shared <shared@example.test>")
    s.sendmail("sales@example.test", ["bob@example.test"], msg("sales@example.test", "still"))
    s.quit()
    # The group deleted, the grant is gone: a new group at its address
    # inherits nothing.
    sub.cli("group", "del", "sales@example.test")
    sub.cli("group", "add", "sales@example.test")
    s = session(sub)
    refused(s, "sales@example.test", "sales@example.test")
    # Disabled while logged in: sends as nobody, not even as themself.
    sub.cli("user", "send-as", "add", "alice@example.test", "shared@example.test")
    assert s.mail("shared@example.test")[0] == 250
    s.rset()
    sub.cli("user", "disable", "alice@example.test")
    for sender in ("shared@example.test", "alice@example.test"):
        code, text = s.mail(sender)
        assert code == 553 and text.startswith(b"5.7.1")
    s.quit()
    assert len(mailbox_messages(sub, "bob@example.test")) == 5


def test_submission_relays_for_authenticated_users_only(sub):
    s = session(sub)
    assert s.mail("alice@example.test")[0] == 250
    assert s.rcpt("carol@remote.test")[0] == 250   # authenticated: any domain
    s.rset()
    s.quit()
    r = Raw(sub.port("smtp", "listen_submission"))
    r.reply()
    r.cmd("EHLO client.test")
    assert r.cmd("RCPT TO:<carol@remote.test>")[0] == 503
    r.cmd("QUIT")


def ntlm_login(h, user, password, domain=""):
    from impacket import ntlm
    s = session(h, login=False)
    t1 = ntlm.getNTLMSSPType1("", "", signingRequired=True)
    code, resp = s.docmd("AUTH", "NTLM " + base64.b64encode(t1.getData()).decode())
    if code != 334:
        s.close()
        return code, resp, None
    challenge = base64.b64decode(resp)
    t3, _ = ntlm.getNTLMSSPType3(t1, challenge, user, password, domain)
    code, resp = s.docmd(base64.b64encode(t3.getData()).decode())
    return code, resp, s


def test_auth_ntlm_with_impacket(sub):
    code, resp, s = ntlm_login(sub, "alice@example.test", PW)
    assert code == 235, resp
    s.sendmail("alice@example.test", ["bob@example.test"], MSG)
    s.quit()
    # The DOMAIN\user form with our DNS domain.
    code, resp, s = ntlm_login(sub, "alice", PW, "example.test")
    assert code == 235, resp
    s.quit()
    code, resp, s = ntlm_login(sub, "alice@example.test", "wrong")
    assert code == 535 and resp.startswith(b"5.7.8")
    s.quit()
    # bob has no NT hash stored: NTLM cannot work for him.
    code, resp, s = ntlm_login(sub, "bob@example.test", PW)
    assert code == 535
    s.quit()
    assert len(mailbox_messages(sub, "bob@example.test")) == 1


def test_ntlm_empty_initial_and_garbage(sub):
    s = session(sub, login=False)
    code, resp = s.docmd("AUTH", "NTLM")
    assert (code, resp) == (334, b"")
    code, resp = s.docmd(base64.b64encode(b"not ntlm at all").decode())
    assert code == 501 and resp.startswith(b"5.5.2")
    s.quit()


def test_mta_port_never_offers_auth(sub):
    s = smtplib.SMTP("127.0.0.1", sub.port("smtp"), timeout=20)
    s.ehlo("x.test")
    s.starttls(context=tls_ctx())
    s.ehlo("x.test")
    assert "auth" not in s.esmtp_features
    s.quit()


def test_swaks_auth(sub):
    for mech in ("PLAIN", "LOGIN"):
        r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port",
                            str(sub.port("smtp", "listen_submission")), "--tls",
                            "--auth", mech, "--auth-user", "alice@example.test",
                            "--auth-password", PW, "--from", "alice@example.test",
                            "--to", "bob@example.test", "--header", "From: alice@example.test"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port",
                        str(sub.port("smtp", "listen_submission")), "--tls",
                        "--auth", "PLAIN", "--auth-user", "alice@example.test",
                        "--auth-password", "nope", "--from", "alice@example.test",
                        "--to", "bob@example.test"], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "535 5.7.8" in r.stdout
    assert len(mailbox_messages(sub, "bob@example.test")) == 2


def test_swaks_submission_refusals_and_implicit_tls(sub):
    port = str(sub.port("smtp", "listen_submission"))

    def run(*args):
        return subprocess.run(["swaks", "--server", "127.0.0.1", "--helo", "swaks.test", *args],
                              capture_output=True, text=True, timeout=60)

    auth = ["--auth", "PLAIN", "--auth-user", "alice@example.test", "--auth-password", PW]
    # Before TLS, AUTH is not offered: swaks finds no AUTH to use.
    r = run("--port", port, *auth, "--from", "alice@example.test", "--to", "bob@example.test")
    assert r.returncode != 0 and "AUTH" not in r.stdout.split("STARTTLS")[0], r.stdout
    # MAIL without AUTH.
    r = run("--port", port, "--tls", "--from", "alice@example.test", "--to", "bob@example.test")
    assert r.returncode != 0 and "530 5.7.0" in r.stdout, r.stdout
    # An envelope sender that is not the user's.
    r = run("--port", port, "--tls", *auth, "--from", "carol@remote.test",
            "--to", "bob@example.test")
    assert r.returncode != 0 and "553 5.7.1" in r.stdout, r.stdout
    # A From: header that is not the user's.
    r = run("--port", port, "--tls", *auth, "--from", "alice@example.test",
            "--to", "bob@example.test", "--header", "From: carol@remote.test")
    assert r.returncode != 0 and "550 5.7.1" in r.stdout, r.stdout
    assert mailbox_messages(sub, "bob@example.test") == []
    # Implicit TLS (the 465-style listener), AUTH LOGIN, an alias as sender.
    r = run("--port", str(sub.port("smtp", "listen_submissions")), "--tls-on-connect",
            "--auth", "LOGIN", "--auth-user", "alice@example.test", "--auth-password", PW,
            "--from", "ali@example.test", "--to", "bob@example.test",
            "--header", "From: ali@example.test")
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(mailbox_messages(sub, "bob@example.test")) == 1


def curl_send(port, user, *extra):
    return subprocess.run(["curl", "-sS", "--max-time", "30", "-k", "--ssl-reqd",
                           f"smtp://127.0.0.1:{port}", "-u", f"{user}:{PW}",
                           "--mail-from", user, "--mail-rcpt", "bob@example.test",
                           "-T", "-", *extra],
                          input=f"From: {user}\r\nSubject: curl\r\n\r\nhi\r\n".encode(),
                          capture_output=True, timeout=60)


def test_curl_and_ntlm_off_by_default(hermod_factory):
    # curl prefers NTLM to PLAIN whenever it is offered; NTLM is off by
    # default, so a user without an NT hash can send with curl.
    h = hermod_factory(overrides={"smtp": {"allow_plaintext_loopback": "no"}})
    h.add_user("alice@example.test", PW, "--nt-hash")
    h.add_user("bob@example.test", PW)
    s = session(h, login=False)
    assert s.esmtp_features["auth"].split() == ["PLAIN", "LOGIN"]
    code, resp = s.docmd("AUTH", "NTLM")
    assert code == 504 and resp.startswith(b"5.5.4"), (code, resp)
    s.quit()
    port = h.port("smtp", "listen_submission")
    r = curl_send(port, "bob@example.test")
    assert r.returncode == 0, r.stderr
    # With NTLM on, curl authenticates alice (who has an NT hash) with its
    # NTLMv2 client, and bob (who has none) cannot be served that way.
    h.stop()
    h.sections["smtp"]["ntlm"] = "yes"
    h.write_config()
    h.start()
    port = h.port("smtp", "listen_submission")
    r = curl_send(port, "alice@example.test", "--login-options", "AUTH=NTLM")
    assert r.returncode == 0, r.stderr
    assert "authenticated as alice@example.test (NTLM)" in h.log_text(since_start=True)
    r = curl_send(port, "bob@example.test")
    assert r.returncode == 67, r.stderr     # CURLE_LOGIN_DENIED
    assert len(mailbox_messages(h, "bob@example.test")) == 2
