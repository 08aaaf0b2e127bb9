"""A real POP3 client from Debian, curl, downloading a mailbox from hermod:
plain, STLS (--ssl-reqd), implicit TLS (pop3s://), SASL mechanisms, and
DELE through curl's custom request."""
import subprocess

from test_pop3 import MSG1, MSG2, MSG3, PASSWORD, USER, fill, login


def curl(*args, check=True):
    r = subprocess.run(["curl", "-sS", "--max-time", "30", *args], capture_output=True,
                       timeout=60)
    if check:
        assert r.returncode == 0, r.stderr.decode(errors="replace")
    return r


def prepare(h):
    h.add_user(USER, PASSWORD)
    fill(h, USER, MSG1, MSG2, MSG3)
    return f"pop3://127.0.0.1:{h.port('pop3')}"


def test_curl_downloads_mailbox(hermod):
    url = prepare(hermod)
    listing = curl("-u", f"{USER}:{PASSWORD}", url + "/").stdout
    assert listing.split(b"\r\n")[:3] == [b"1 %d" % len(MSG1), b"2 %d" % len(MSG2),
                                          b"3 %d" % len(MSG3)]
    for n, m in ((1, MSG1), (2, MSG2), (3, MSG3)):
        assert curl("-u", f"{USER}:{PASSWORD}", f"{url}/{n}").stdout == m
    # Every SASL mechanism curl knows that we offer, and USER/PASS.
    for opts in ("AUTH=PLAIN", "AUTH=LOGIN", "AUTH=+APOP"):
        r = curl("-u", f"{USER}:{PASSWORD}", "--login-options", opts, f"{url}/1", check=False)
        if opts == "AUTH=+APOP":
            assert r.returncode != 0     # no APOP timestamp: curl refuses itself
        else:
            assert r.returncode == 0 and r.stdout == MSG1, opts
    r = curl("-u", f"{USER}:wrong", f"{url}/1", check=False)
    assert r.returncode == 67           # CURLE_LOGIN_DENIED


def test_curl_tls(hermod):
    url = prepare(hermod)
    assert curl("-k", "--ssl-reqd", "-u", f"{USER}:{PASSWORD}", f"{url}/2").stdout == MSG2
    tls = f"pop3s://127.0.0.1:{hermod.port('pop3', 'listen_tls')}"
    assert curl("-k", "-u", f"{USER}:{PASSWORD}", f"{tls}/3").stdout == MSG3


def test_curl_dele(hermod):
    url = prepare(hermod)
    curl("-u", f"{USER}:{PASSWORD}", "-X", "DELE", f"{url}/1", "--request-target", "1",
         "-I")
    p = login(hermod)
    assert p.stat() == (2, len(MSG2) + len(MSG3))
    p.quit()


def test_curl_ntlm(hermod_factory):
    """MS-OXPOP3 AUTH NTLM with curl's NTLMv2 client."""
    h = hermod_factory({"pop3": {"ntlm": "yes"}})
    h.add_user(USER, PASSWORD, "--nt-hash")
    h.add_user("bob@example.test", "bob-secret")       # no NT hash
    fill(h, USER, MSG1, MSG2, MSG3)
    url = f"pop3://127.0.0.1:{h.port('pop3')}"
    for extra in ([], ["--sasl-ir"]):
        r = curl("-u", f"{USER}:{PASSWORD}", "--login-options", "AUTH=NTLM", *extra, f"{url}/2")
        assert r.stdout == MSG2
    # Offered NTLM, curl picks it by itself.
    assert curl("-u", f"{USER}:{PASSWORD}", f"{url}/3").stdout == MSG3
    r = curl("-u", f"{USER}:wrong", "--login-options", "AUTH=NTLM", f"{url}/1", check=False)
    assert r.returncode == 67
    r = curl("-u", "bob@example.test:bob-secret", "--login-options", "AUTH=NTLM", f"{url}/1",
             check=False)
    assert r.returncode == 67
