"""hermod serve's periodic maintenance: blobs that no message references any
more are collected after the grace period; blobs still referenced stay."""
import os
import poplib
import time

from test_pop3 import fill


def blob_files(h):
    root = os.path.join(h.data_dir, "blobs")
    found = set()
    for d, dirs, files in os.walk(root):
        if os.path.basename(d) == "tmp":
            continue
        found.update(os.path.join(d, f) for f in files)
    return found


def test_unreferenced_blobs_are_collected(hermod_factory):
    h = hermod_factory(overrides={"store": {"maintenance_interval": "1s",
                                            "blob_gc_grace": "1s"}})
    h.add_user("gc@example.test", "pw-gc")
    # Big enough to be a blob of its own; lines short enough for poplib.
    keep = b"Subject: keep\r\n\r\n" + (b"k" * 70 + b"\r\n") * 3000
    drop = b"Subject: drop\r\n\r\n" + (b"d" * 70 + b"\r\n") * 3000
    fill(h, "gc@example.test", keep, drop)
    before = blob_files(h)
    assert len(before) >= 2

    p = poplib.POP3("127.0.0.1", h.port("pop3"))
    p.user("gc@example.test")
    p.pass_("pw-gc")
    # Find the message to drop by its content and delete it.
    for i in range(1, len(p.list()[1]) + 1):
        if b"Subject: drop" in b"\r\n".join(p.top(i, 0)[1]):
            p.dele(i)
    p.quit()

    deadline = time.time() + 20
    while time.time() < deadline:
        now = blob_files(h)
        if len(now) < len(before):
            break
        time.sleep(0.3)
    now = blob_files(h)
    assert len(now) == len(before) - 1, (before, now)
    assert "maintenance: removed" in h.log_text()
    # The kept message is still readable, byte for byte.
    p = poplib.POP3("127.0.0.1", h.port("pop3"))
    p.user("gc@example.test")
    p.pass_("pw-gc")
    assert len(p.list()[1]) == 1
    lines = p.retr(1)[1]
    assert b"\r\n".join(lines) + b"\r\n" == keep
    p.quit()
