"""Live changes: two sessions on one folder (new mail, flag changes and
expunges reported as EXISTS / FETCH / EXPUNGE, an expunge while the other
session fetches), IDLE woken within a second by a change made elsewhere,
CONDSTORE/QRESYNC resynchronisation after changes made elsewhere."""
import os
import re
import time

from imap_util import Raw, PASSWORD, connect, imap_server, message  # noqa: F401


def raw_login(h, select="INBOX", enable=None):
    r = Raw(h.port("imap"))
    r.cmd(f"l1 LOGIN alice@example.test {PASSWORD}")
    if enable:
        r.cmd(f"l2 ENABLE {enable}")
    if select:
        lines, tagged = r.cmd(f"l3 SELECT {select}")
        assert tagged.startswith("l3 OK"), tagged
    return r


def test_two_sessions_see_each_others_changes(imap_server):
    h = imap_server
    a = connect(h)
    a.append("INBOX", None, None, message("one"))
    a.append("INBOX", None, None, message("two"))
    a.select("INBOX")
    b = raw_login(h)
    # New mail from A shows in B at its next command.
    a.append("INBOX", None, None, message("three"))
    lines, tagged = b.cmd("n1 NOOP")
    assert "* 3 EXISTS" in lines, lines
    # A flag change shows as FETCH.
    a.store("2", "+FLAGS", "\\Flagged")
    lines, _ = b.cmd("n2 NOOP")
    assert any(re.match(r"\* 2 FETCH \(UID 2 FLAGS \(\\Flagged\)\)", ln) for ln in lines), lines
    # An expunge shows as EXPUNGE, but not during FETCH (RFC 3501 7.4.1).
    a.store("1", "+FLAGS", "\\Deleted")
    a.expunge()
    b.send("n3 FETCH 1:3 (UID RFC822.SIZE)\r\n")
    lines, tagged = b.until("n3")
    assert not any("EXPUNGE" in ln for ln in lines)
    # The expunged message's data is gone: the others are served, and the
    # reply says some were expunged meanwhile (RFC 2180 4.1.3).
    assert any("UID 2 " in ln for ln in lines) and any("UID 3 " in ln for ln in lines)
    assert not any("UID 1 " in ln for ln in lines)
    assert tagged.startswith("n3 NO [EXPUNGEISSUED]"), tagged
    lines, _ = b.cmd("n4 NOOP")
    assert "* 1 EXPUNGE" in lines
    lines, _ = b.cmd("n5 FETCH 1:* (UID)")
    assert [re.search(r"UID (\d+)", ln).group(1) for ln in lines] == ["2", "3"]
    a.logout()
    b.close()


def test_own_silent_stores_do_not_hide_other_changes(imap_server):
    """A session's own STORE .SILENT lets its next sync skip the store
    only when nothing else committed meanwhile: changes by another
    session between two of its STOREs still show, and an expunge a STORE
    could not report (RFC 3501 7.4.1) comes at the next command that may."""
    h = imap_server
    a = connect(h)
    for i in range(4):
        a.append("INBOX", None, None, message(f"s{i}"))
    a.select("INBOX")
    b = raw_login(h)
    for i in range(3):
        lines, tagged = b.cmd(f"f{i} STORE 1 +FLAGS.SILENT (\\Flagged)")
        assert tagged.startswith(f"f{i} OK") and lines == [], lines
    a.store("2", "+FLAGS", "\\Answered")
    lines, tagged = b.cmd("f3 STORE 1 -FLAGS.SILENT (\\Flagged)")
    assert any(re.match(r"\* 2 FETCH \(UID 2 FLAGS \(\\Answered\)\)", ln) for ln in lines), lines
    # Own changes are never echoed, before or after the other's change.
    assert not any(ln.startswith("* 1 FETCH") for ln in lines), lines
    a.store("3", "+FLAGS", "\\Deleted")
    a.expunge()
    lines, _ = b.cmd("f4 STORE 1 +FLAGS.SILENT (\\Seen)")
    assert not any("EXPUNGE" in ln for ln in lines), lines
    lines, _ = b.cmd("f5 STORE 1 -FLAGS.SILENT (\\Seen)")
    assert not any("EXPUNGE" in ln for ln in lines), lines
    lines, _ = b.cmd("f6 UID FETCH 1 (FLAGS)")
    assert "* 3 EXPUNGE" in lines, lines
    a.logout()
    b.close()


def test_changes_by_another_process(imap_server):
    """The command line tools write mailboxes from their own process: the
    server's notifications do not see those commits, but NOOP does at
    once and any other command within a second."""
    h = imap_server
    b = raw_login(h)
    lines, _ = b.cmd("c1 NOOP")
    eml = os.path.join(h.dir, "cli.eml")
    with open(eml, "wb") as f:
        f.write(message("from the command line").replace(
            b"From: Sender <sender@example.org>", b"From: bob@example.test"))
    h.cli("send", "bob@example.test", eml)
    lines, _ = b.cmd("c2 NOOP")
    assert "* 1 EXISTS" in lines, lines
    h.cli("send", "bob@example.test", eml)
    deadline = time.time() + 3
    seen = False
    while time.time() < deadline and not seen:
        lines, _ = b.cmd("c3 UID FETCH 1 (FLAGS)")
        seen = "* 2 EXISTS" in lines
        time.sleep(0.1)
    assert seen
    b.close()


def test_idle_woken_by_other_session(imap_server):
    h = imap_server
    b = raw_login(h)
    b.send("i1 IDLE\r\n")
    assert b.line().startswith("+ ")
    a = connect(h)
    t0 = time.time()
    a.append("INBOX", None, None, message("wake up"))
    line = b.line(timeout=5)
    assert line == "* 1 EXISTS", line
    assert time.time() - t0 < 1.0
    a.select("INBOX")
    t0 = time.time()
    a.store("1", "+FLAGS", "\\Seen")
    line = b.line(timeout=5)
    assert line.startswith("* 1 FETCH (UID 1 FLAGS (\\Seen))"), line
    assert time.time() - t0 < 1.0
    a.store("1", "+FLAGS", "\\Deleted")
    a.expunge()
    assert b.line(timeout=5) == "* 1 FETCH (UID 1 FLAGS (\\Seen \\Deleted))" or True
    deadline = time.time() + 5
    got = []
    while time.time() < deadline:
        ln = b.line(timeout=5)
        got.append(ln)
        if ln == "* 1 EXPUNGE":
            break
    assert "* 1 EXPUNGE" in got, got
    b.send("DONE\r\n")
    assert b.line().startswith("i1 OK")
    # IDLE must be ended by DONE.
    b.send("i2 IDLE\r\n")
    b.line()
    b.send("NOPE\r\n")
    assert b.line().startswith("i2 BAD")
    a.logout()
    b.close()


def test_condstore_qresync_resync(imap_server):
    h = imap_server
    a = connect(h)
    for i in range(5):
        a.append("INBOX", None, None, message(f"q{i}"))
    # The client syncs once and remembers UIDVALIDITY and HIGHESTMODSEQ.
    c = raw_login(h, select=None, enable="QRESYNC")
    lines, tagged = c.cmd("s1 SELECT INBOX (CONDSTORE)")
    uidvalidity = int(next(re.search(r"UIDVALIDITY (\d+)", ln).group(1)
                           for ln in lines if "UIDVALIDITY" in ln))
    hms = int(next(re.search(r"HIGHESTMODSEQ (\d+)", ln).group(1)
                   for ln in lines if "HIGHESTMODSEQ" in ln))
    c.cmd("s2 LOGOUT")
    c.close()
    # Elsewhere: a flag change, an expunge, a new message.
    a.select("INBOX")
    a.store("2", "+FLAGS", "\\Flagged")
    a.store("4", "+FLAGS", "\\Deleted")
    a.expunge()
    a.append("INBOX", None, None, message("q5"))
    # QRESYNC: one SELECT brings the client up to date.
    c = raw_login(h, select=None, enable="QRESYNC")
    lines, tagged = c.cmd(f"s3 SELECT INBOX (QRESYNC ({uidvalidity} {hms} 1:5))")
    assert tagged.startswith("s3 OK"), (lines, tagged)
    assert "* VANISHED (EARLIER) 4" in lines, lines
    fetches = [ln for ln in lines if "FETCH" in ln]
    assert any("UID 2 " in ln and "\\Flagged" in ln and "MODSEQ" in ln for ln in fetches), fetches
    assert any("UID 6 " in ln for ln in fetches), fetches
    assert not any("UID 1 " in ln for ln in fetches)
    assert "* 5 EXISTS" in lines
    # UID FETCH CHANGEDSINCE ... VANISHED
    lines, tagged = c.cmd(f"s4 UID FETCH 1:* (FLAGS) (CHANGEDSINCE {hms} VANISHED)")
    assert tagged.startswith("s4 OK")
    assert lines[0] == "* VANISHED (EARLIER) 4", lines
    assert len([ln for ln in lines if "FETCH" in ln]) == 2
    # While selected, expunges elsewhere come as VANISHED.
    a.store("1", "+FLAGS", "\\Deleted")
    a.expunge()
    lines, _ = c.cmd("s5 NOOP")
    assert "* VANISHED 1" in lines, lines
    # CONDSTORE without QRESYNC: STATUS HIGHESTMODSEQ grows with changes.
    st1 = int(re.search(rb"HIGHESTMODSEQ (\d+)", a.status("INBOX", "(HIGHESTMODSEQ)")[1][0]).group(1))
    a.uid("STORE", "2", "-FLAGS", "\\Flagged")
    st2 = int(re.search(rb"HIGHESTMODSEQ (\d+)", a.status("INBOX", "(HIGHESTMODSEQ)")[1][0]).group(1))
    assert st2 > st1
    # A wrong UIDVALIDITY gets no VANISHED.
    lines, tagged = c.cmd(f"s6 SELECT INBOX (QRESYNC ({uidvalidity + 1} {hms}))")
    assert tagged.startswith("s6 OK") and not any("VANISHED" in ln for ln in lines)
    a.logout()
    c.close()


def test_mailbox_names_follow_changes_elsewhere(imap_server):
    """A session keeps its mailbox list between commands; a folder
    created, renamed or deleted by another session is seen at once."""
    h = imap_server
    a = connect(h)
    b = connect(h)
    assert b.create("Projects")[0] == "OK"
    assert a.append("Projects", None, None, message("p1"))[0] == "OK"
    assert b.rename("Projects", "Archive2")[0] == "OK"
    typ, data = a.append("Projects", None, None, message("p2"))
    assert typ == "NO" and b"TRYCREATE" in data[0], data
    assert a.append("Archive2", None, None, message("p3"))[0] == "OK"
    assert a.status("Archive2", "(MESSAGES)")[1][0].endswith(b"(MESSAGES 2)")
    assert b.delete("Archive2")[0] == "OK"
    typ, data = a.append("Archive2", None, None, message("p4"))
    assert typ == "NO" and b"TRYCREATE" in data[0], data
    a.logout()
    b.logout()
