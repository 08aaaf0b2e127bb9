"""Crash safety: 20 clients submit 2,000 messages (to local users, some also
to a remote domain whose server is down) while the server is killed with
SIGKILL. After a restart every message that got its 250 is in each of its
local mailboxes exactly once (and no message is there twice), and the
queue resumes: once the remote server is up, every acknowledged remote
copy reaches it."""
import random
import re
import smtplib
import threading
import time

from smtputil import _free_port, mailbox_messages, wait_for

CLIENTS = 20
PER_CLIENT = 100
USERS = 10
PW = "Secret-pass-1"


def test_kill9_during_load_loses_nothing_acknowledged(hermod_factory):
    port = _free_port()           # the remote server: down until the end
    h = hermod_factory(overrides={
        "transport": {"routes": f"remote.test=127.0.0.1:{port}", "retry_min": "1s",
                      "retry_max": "1s", "connect_timeout": "2s"},
        "auth": {"password_hash_cost": "1"},
    })
    users = [f"u{i}@example.test" for i in range(USERS)]
    for u in users:
        h.add_user(u, PW)

    acked = {}           # token -> list of local users
    acked_remote = set()
    lock = threading.Lock()
    stop = threading.Event()
    sent = [0]
    problems = []

    def client(n):
        rnd = random.Random(n)
        s = None
        for k in range(PER_CLIENT):
            if stop.is_set():
                break
            token = f"T{n:02d}x{k:03d}"
            rcpts = rnd.sample(users, rnd.choice([1, 1, 2, 3]))
            remote = k % 5 == 0
            if remote:
                rcpts = rcpts + [f"r{n}@remote.test"]
            me = users[n % USERS]
            body = (f"From: <{me}>\r\nSubject: {token}\r\n"
                    f"Message-ID: <{token}@test>\r\n\r\n" + ("body line\r\n" * 30)).encode()
            try:
                if s is None:
                    # Submission (AUTH on loopback), so that remote
                    # recipients are accepted too.
                    s = smtplib.SMTP("127.0.0.1", h.port("smtp", "listen_submission"),
                                     timeout=30)
                    s.ehlo("load.test")
                    s.login(me, PW)
                # smtplib raises unless the data got 250; refused
                # recipients come back in the dict.
                refused = s.sendmail(me, rcpts, body)
                if refused:
                    problems.append(refused)
                    continue
            except (smtplib.SMTPException, OSError):
                s = None
                if stop.is_set():
                    break
                continue
            with lock:
                acked[token] = [r for r in rcpts if r.endswith("@example.test")]
                if remote:
                    acked_remote.add(token)
                sent[0] += 1
        if s is not None:
            try:
                s.quit()
            except (smtplib.SMTPException, OSError):
                pass

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    # Kill in the middle of the load.
    assert wait_for(lambda: sent[0] >= 600, timeout=120), sent[0]
    h.kill9()
    stop.set()
    for t in threads:
        t.join(60)
    assert problems == []
    n_acked = len(acked)
    assert 600 <= n_acked < CLIENTS * PER_CLIENT

    h.start()
    found = {}
    for u in users:
        for _, mime, _, _ in mailbox_messages(h, u):
            m = re.search(rb"Subject: (T\d+x\d+)", mime)
            assert m, mime[:200]
            found.setdefault(m.group(1).decode(), []).append(u)
    for token, local in acked.items():
        got = sorted(found.get(token, []))
        assert got == sorted(local), (token, got, local)
    # Nothing is anywhere twice, acknowledged or not.
    for token, got in found.items():
        assert len(got) == len(set(got)), (token, got)

    # The queue resumes: the remote server comes up and gets every
    # acknowledged remote copy.
    real = _SinkOnPort(port)
    try:
        h.cli("queue", "flush")
        assert wait_for(lambda: acked_remote <= real.tokens(), timeout=90), \
            (len(acked_remote - real.tokens()), h.cli("queue", "list").stdout[-2000:])
        assert wait_for(lambda: "the queue is empty" in h.cli("queue", "list").stdout,
                        timeout=60)
    finally:
        real.stop()


class _SinkOnPort:
    """An aiosmtpd sink on a given port (the route the queue uses)."""

    def __init__(self, port):
        from aiosmtpd.controller import Controller
        self.data = []
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                outer.data.append(envelope.original_content)
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port)
        self.controller.start()

    def tokens(self):
        out = set()
        for d in list(self.data):
            m = re.search(rb"Subject: (T\d+x\d+)", d)
            if m:
                out.add(m.group(1).decode())
        return out

    def stop(self):
        self.controller.stop()
