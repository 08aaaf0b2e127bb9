"""The outbound queue and relay: submission to remote domains delivered to
an aiosmtpd sink on loopback (through a static route, MX records from a
local DNS server, or a smarthost with AUTH and STARTTLS), a temporary
failure then success, bounces (RFC 3464 DSNs) for permanent failures,
expiry, unknown domains and null MX, `hermod queue list|flush|delete`,
and the queue surviving a restart."""
import email
import smtplib
import ssl
import time

import pytest

from smtputil import Dns, Sink, free_port_v4_v6, mailbox_messages, wait_for

PW = "Secret-pass-1"


@pytest.fixture
def sink():
    s = Sink()
    yield s
    s.stop()


def make(hermod_factory, sink_port=None, transport=None, smtp=None):
    t = {"retry_min": "1s", "retry_max": "2s"}
    if sink_port is not None:
        t["routes"] = f"remote.test=127.0.0.1:{sink_port}"
    t.update(transport or {})
    h = hermod_factory(overrides={"transport": t, "smtp": smtp or {}})
    h.add_user("alice@example.test", PW)
    h.add_user("bob@example.test", PW)
    return h


def submit(h, mail_from, rcpts, body, user="alice@example.test", options=(), rcpt_options=()):
    s = smtplib.SMTP("127.0.0.1", h.port("smtp", "listen_submission"), timeout=30)
    s.ehlo("client.test")
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s.starttls(context=ctx)
    s.ehlo("client.test")
    s.login(user, PW)
    r = s.sendmail(mail_from, rcpts, body, mail_options=list(options),
                   rcpt_options=list(rcpt_options))
    s.quit()
    return r


BODY = (b"From: Alice <alice@example.test>\r\nTo: <carol@remote.test>\r\n"
        b"Subject: outbound\r\n\r\nhello remote\r\n.dot line\r\n")


def test_relay_through_route(hermod_factory, sink):
    h = make(hermod_factory, sink.port)
    submit(h, "alice@example.test", ["carol@remote.test", "dave@remote.test",
                                     "bob@example.test"], BODY,
           options=["ENVID=ABC"], rcpt_options=["NOTIFY=FAILURE"])
    assert wait_for(lambda: sink.messages)
    m = sink.messages[0]
    assert m["mail_from"] == "alice@example.test"
    assert sorted(m["rcpts"]) == ["carol@remote.test", "dave@remote.test"]
    assert m["data"].endswith(BODY)  # dot-stuffing undone by the sink
    assert m["data"].startswith(b"Received: from client.test")
    assert b"with ESMTPSA" in m["data"]
    # The local recipient got its copy at once.
    assert len(mailbox_messages(h, "bob@example.test")) == 1
    assert wait_for(lambda: "the queue is empty" in h.cli("queue", "list").stdout)


def test_temporary_failure_then_success(hermod_factory, sink):
    h = make(hermod_factory, sink.port, {"retry_min": "3s", "retry_max": "3s"})
    sink.fail_data.append("451 4.3.0 try again later")
    submit(h, "alice@example.test", ["carol@remote.test"], BODY)
    # Deferred: the queue shows it with the sink's answer.
    out = wait_for(lambda: (lambda o: o if "451 4.3.0" in o else None)(
        h.cli("queue", "list").stdout), timeout=10)
    assert out and "carol@remote.test" in out and "attempts 1" in out, out
    assert sink.messages == []
    # flush makes it due now; the next attempt succeeds.
    h.cli("queue", "flush")
    assert wait_for(lambda: sink.messages, timeout=15)
    assert wait_for(lambda: "the queue is empty" in h.cli("queue", "list").stdout)
    # No bounce for alice.
    time.sleep(0.5)
    assert mailbox_messages(h, "alice@example.test") == []


def test_permanent_failure_bounces_to_sender(hermod_factory, sink):
    h = make(hermod_factory, sink.port)
    sink.fail_rcpt["nobody@remote.test"] = "550 5.1.1 <nobody@remote.test>: no such user"
    submit(h, "alice@example.test", ["nobody@remote.test", "carol@remote.test"], BODY,
           options=["ENVID=QQ314159"])
    assert wait_for(lambda: sink.messages)
    assert sink.messages[0]["rcpts"] == ["carol@remote.test"]
    msgs = wait_for(lambda: mailbox_messages(h, "alice@example.test"))
    assert len(msgs) == 1
    dsn = email.message_from_bytes(msgs[0][1])
    assert dsn.get_content_type() == "multipart/report"
    assert dsn.get_param("report-type") == "delivery-status"
    assert dsn["Auto-Submitted"] == "auto-replied"
    parts = dsn.get_payload()
    assert parts[1].get_content_type() == "message/delivery-status"
    status = parts[1].as_string()
    assert "Reporting-MTA: dns; mail.example.test" in status
    assert "Original-Envelope-Id: QQ314159" in status
    assert "Final-Recipient: rfc822; nobody@remote.test" in status
    assert "Action: failed" in status and "Status: 5.1.1" in status
    assert "Remote-MTA: dns; 127.0.0.1" in status
    assert "Diagnostic-Code: smtp; 550 5.1.1" in status
    assert "carol@remote.test" not in status
    assert parts[2].get_content_type() == "message/rfc822"
    assert b"hello remote" in msgs[0][1]
    assert wait_for(lambda: "the queue is empty" in h.cli("queue", "list").stdout)


def test_ret_hdrs_and_notify_never(hermod_factory, sink):
    h = make(hermod_factory, sink.port)
    sink.fail_rcpt["x@remote.test"] = "550 5.1.1 no"
    sink.fail_rcpt["y@remote.test"] = "550 5.1.1 no"
    submit(h, "alice@example.test", ["x@remote.test"], BODY, options=["RET=HDRS"])
    submit(h, "alice@example.test", ["y@remote.test"], BODY, rcpt_options=["NOTIFY=NEVER"])
    msgs = wait_for(lambda: mailbox_messages(h, "alice@example.test"))
    time.sleep(2)
    msgs = mailbox_messages(h, "alice@example.test")
    assert len(msgs) == 1   # NOTIFY=NEVER: no DSN for y
    assert b"text/rfc822-headers" in msgs[0][1]
    assert b"hello remote" not in msgs[0][1]
    assert b"Subject: outbound" in msgs[0][1]


def test_success_notification(hermod_factory, sink):
    h = make(hermod_factory, sink.port)
    submit(h, "alice@example.test", ["carol@remote.test"], BODY,
           rcpt_options=["NOTIFY=SUCCESS"])
    msgs = wait_for(lambda: mailbox_messages(h, "alice@example.test"))
    assert b"Action: relayed" in msgs[0][1]


def test_expiry_bounces(hermod_factory, sink):
    h = make(hermod_factory, sink.port, {"queue_lifetime": "3s", "retry_min": "1s",
                                        "retry_max": "1s"})
    sink.fail_data.extend(["421 4.7.0 busy"] * 100)
    submit(h, "alice@example.test", ["carol@remote.test"], BODY)
    msgs = wait_for(lambda: mailbox_messages(h, "alice@example.test"), timeout=20)
    assert msgs, h.cli("queue", "list").stdout
    assert b"Status: 4.4.7" in msgs[0][1]
    assert b"Action: failed" in msgs[0][1]
    assert sink.messages == []


def test_mx_lookup_through_dns(hermod_factory, sink):
    dns = Dns({("remote.test", "MX"): [(20, "mx2.remote.test"), (10, "mx1.remote.test")],
               ("mx1.remote.test", "A"): ["127.0.0.1"],
               ("mx2.remote.test", "A"): ["127.0.0.2"],
               ("nomail.test", "MX"): [(0, "")],
               ("implicit.test", "A"): ["127.0.0.1"]},
              nxdomain=["nowhere.test"])
    try:
        h = make(hermod_factory, None, {"resolver": f"127.0.0.1:{dns.port}",
                                        "mx_port": str(sink.port)})
        submit(h, "alice@example.test", ["carol@remote.test"], BODY)
        assert wait_for(lambda: sink.messages)
        assert ("remote.test", "MX") in dns.queries
        assert ("mx1.remote.test", "A") in dns.queries
        # No MX: the domain's own address (RFC 5321 5.1).
        submit(h, "alice@example.test", ["x@implicit.test"], BODY)
        assert wait_for(lambda: len(sink.messages) == 2)
        # NXDOMAIN and null MX (RFC 7505) bounce at once.
        submit(h, "alice@example.test", ["x@nowhere.test", "y@nomail.test"], BODY)
        msgs = wait_for(lambda: len(mailbox_messages(h, "alice@example.test")) >= 2 and
                        mailbox_messages(h, "alice@example.test"))
        text = b"".join(m[1] for m in msgs)
        assert b"Status: 5.1.2" in text and b"Status: 5.1.10" in text
    finally:
        dns.stop()


def test_mx_fallback_to_next_host_over_ipv6(hermod_factory, tmp_path):
    # The preferred MX refuses connections; the next one has only an AAAA
    # record and offers STARTTLS: the message goes there, over IPv6, in
    # TLS (opportunistic, RFC 3207 / RFC 7435), once.
    port = free_port_v4_v6()
    sink = Sink(tls_dir=str(tmp_path), host="::1", port=port)
    dns = Dns({("v6.test", "MX"): [(10, "dead.v6.test"), (20, "mx.v6.test")],
               ("dead.v6.test", "A"): ["127.0.0.9"],
               ("mx.v6.test", "AAAA"): ["::1"]})
    try:
        h = make(hermod_factory, None, {"resolver": f"127.0.0.1:{dns.port}",
                                        "mx_port": str(port)})
        submit(h, "alice@example.test", ["carol@v6.test"], BODY)
        assert wait_for(lambda: sink.messages)
        assert ("dead.v6.test", "A") in dns.queries
        assert ("mx.v6.test", "AAAA") in dns.queries
        m = sink.messages[0]
        assert m["rcpts"] == ["carol@v6.test"] and m["tls"] is True
        assert m["data"].endswith(BODY)
        assert wait_for(lambda: "the queue is empty" in h.cli("queue", "list").stdout)
        assert len(sink.messages) == 1
    finally:
        dns.stop()
        sink.stop()


def test_smarthost_with_auth_and_starttls(hermod_factory, tmp_path):
    sink = Sink(tls_dir=str(tmp_path), auth=("relayuser", "relaypass"))
    try:
        h = make(hermod_factory, None, {"smarthost": f"127.0.0.1:{sink.port}",
                                        "smarthost_user": "relayuser",
                                        "smarthost_password": "relaypass"})
        submit(h, "alice@example.test", ["carol@anywhere.test"], BODY)
        assert wait_for(lambda: sink.messages)
        m = sink.messages[0]
        assert m["tls"] is True
        assert m["auth"] == b"relayuser"
        assert sink.auth_seen[0][0] == "PLAIN"
    finally:
        sink.stop()


def test_smarthost_wrong_password_is_retried(hermod_factory, tmp_path):
    sink = Sink(auth=("relayuser", "relaypass"))
    try:
        h = make(hermod_factory, None, {"smarthost": f"127.0.0.1:{sink.port}",
                                        "smarthost_user": "relayuser",
                                        "smarthost_password": "wrong",
                                        # aiosmtpd leaves a failed AUTH
                                        # unanswered: our reply timeout
                                        # ends the attempt.
                                        "command_timeout": "3s"})
        submit(h, "alice@example.test", ["carol@anywhere.test"], BODY)
        out = wait_for(lambda: (lambda o: o if "AUTH failed" in o else None)(
            h.cli("queue", "list").stdout), timeout=40)
        assert out, h.cli("queue", "list").stdout
        assert sink.messages == []
    finally:
        sink.stop()


def test_queue_delete_and_restart(hermod_factory, sink):
    h = make(hermod_factory, sink.port, {"retry_min": "1h", "retry_max": "1h"})
    sink.fail_data.append("451 4.3.0 later")
    submit(h, "alice@example.test", ["carol@remote.test"], BODY)
    submit(h, "alice@example.test", ["dave@remote.test"], BODY)
    out = wait_for(lambda: (lambda o: o if o.count("attempts 1") == 1 and
                            "attempts 0" not in o else None)(h.cli("queue", "list").stdout) or
                   (lambda o: o if "451" in o else None)(h.cli("queue", "list").stdout))
    assert out
    # The first was deferred (451) and waits an hour; the second went out.
    assert wait_for(lambda: len(sink.messages) == 1)
    listing = h.cli("queue", "list").stdout
    ids = [ln.split()[0] for ln in listing.splitlines() if not ln.startswith(" ")]
    assert len(ids) == 1, listing
    # It survives a restart, and flush then delivers it.
    h.kill9()
    h.start()
    assert ids[0] in h.cli("queue", "list").stdout
    h.cli("queue", "flush", ids[0])
    assert wait_for(lambda: len(sink.messages) == 2, timeout=15)
    # delete: a message that cannot go out is removed without a DSN.
    sink.fail_data.append("451 4.3.0 later")
    submit(h, "alice@example.test", ["erin@remote.test"], BODY)
    listing = wait_for(lambda: (lambda o: o if "erin" in o and "451" in o else None)(
        h.cli("queue", "list").stdout))
    mid = [ln.split()[0] for ln in listing.splitlines() if not ln.startswith(" ")][0]
    r = h.cli("queue", "delete", mid)
    assert "deleted" in r.stdout
    assert "the queue is empty" in h.cli("queue", "list").stdout
    assert h.cli("queue", "delete", mid, check=False).returncode == 1
    assert mailbox_messages(h, "alice@example.test") == []


def test_local_bounce_for_full_mailbox(hermod_factory):
    h = make(hermod_factory)
    h.add_user("small@example.test", PW, "--quota", "4k")
    s = smtplib.SMTP("127.0.0.1", h.port("smtp"), timeout=20)
    s.ehlo("client.test")
    # Accepted at RCPT time (no SIZE declared, the mailbox is not full),
    # refused by the store at delivery: the copy bounces to the (local)
    # sender with a DSN, and the client still got 250. (Without SIZE the
    # RCPT check only needs the mailbox not to be completely full.)
    big = b"Subject: big\r\n\r\n" + (b"y" * 70 + b"\r\n") * 60
    for i in range(40):
        # smtplib's sendmail would declare SIZE (and get 452 up front).
        assert s.mail("alice@example.test")[0] == 250
        assert s.rcpt("small@example.test")[0] == 250
        assert s.data(big)[0] == 250
        if mailbox_messages(h, "alice@example.test"):
            break
    s.quit()
    msgs = wait_for(lambda: mailbox_messages(h, "alice@example.test"))
    assert msgs
    assert b"Action: failed" in msgs[0][1]
    assert b"Final-Recipient: rfc822; small@example.test" in msgs[0][1]
