"""A real client: mbsync (isync, Debian) syncs a Maildir with hermod both
ways: server messages down, a local new message, flag change and deletion
up, and a server-side change down again."""
import os
import subprocess
import textwrap

from imap_util import PASSWORD, connect, imap_server, message  # noqa: F401


def mbsync(h, home):
    r = subprocess.run(["mbsync", "-c", os.path.join(home, "mbsyncrc"), "-a"],
                       capture_output=True, text=True, timeout=120, cwd=home)
    assert r.returncode == 0, r.stdout + r.stderr + h.log_text()[-3000:]
    return r


def norm(data):
    """mbsync stores LF line ends and adds an X-TUID header locally."""
    lines = data.replace(b"\r\n", b"\n").split(b"\n")
    return b"\n".join(ln for ln in lines if not ln.startswith(b"X-TUID: "))


def maildir_files(path, sub=("cur", "new")):
    out = []
    for s in sub:
        d = os.path.join(path, s)
        if os.path.isdir(d):
            out += [os.path.join(d, f) for f in sorted(os.listdir(d))]
    return out


def test_mbsync_both_ways(imap_server, tmp_path):
    h = imap_server
    home = str(tmp_path)
    maildir = os.path.join(home, "Mail")
    os.makedirs(maildir)
    with open(os.path.join(home, "mbsyncrc"), "w") as f:
        f.write(textwrap.dedent(f"""\
            IMAPAccount hermod
            Host 127.0.0.1
            Port {h.port("imap")}
            User alice@example.test
            Pass {PASSWORD}
            SSLType None
            AuthMechs LOGIN

            IMAPStore remote
            Account hermod

            MaildirStore local
            Path {maildir}/
            Inbox {maildir}/INBOX
            SubFolders Verbatim

            Channel mail
            Far :remote:
            Near :local:
            Patterns INBOX Work
            Create Both
            Expunge Both
            SyncState *
            """))
    m = connect(h)
    m.create("Work")
    originals = [message(f"server {i}", body=f"server body {i}\r\n") for i in range(3)]
    for o in originals:
        m.append("INBOX", None, None, o)
    m.append("Work", "(\\Flagged)", None, message("work item"))
    # Down: every message arrives byte for byte.
    mbsync(h, home)
    inbox = os.path.join(maildir, "INBOX")
    files = maildir_files(inbox)
    assert len(files) == 3
    assert sorted(norm(open(p, "rb").read()) for p in files) == sorted(map(norm, originals))
    work = maildir_files(os.path.join(maildir, "Work"))
    assert len(work) == 1 and work[0].endswith("F")  # \Flagged as Maildir flag F
    # Up: a new local message, a flag, a deletion.
    local = message("written locally", body="from the maildir\r\n")
    with open(os.path.join(inbox, "new", "1700000000.local.host"), "wb") as f:
        f.write(local)
    first = [p for p in files if b"server 0" in open(p, "rb").read()][0]
    second = [p for p in files if b"server 1" in open(p, "rb").read()][0]
    os.rename(first, first.split(":2,")[0] + ":2,S")
    os.remove(second)
    mbsync(h, home)
    m.select("INBOX")
    typ, data = m.search(None, "ALL")
    ids = data[0].split()
    assert len(ids) == 3
    bodies = {}
    for i in ids:
        typ, d = m.fetch(i, "(FLAGS BODY.PEEK[])")
        bodies[norm(d[0][1])] = d[0][0]
    assert norm(local) in bodies
    assert norm(originals[1]) not in bodies
    assert b"\\Seen" in bodies[norm(originals[0])]
    # A server-side change comes down on the next sync.
    m.store("1:*", "+FLAGS", "\\Flagged")
    mbsync(h, home)
    files = maildir_files(inbox)
    assert len(files) == 3
    assert all(":2," in p and "F" in p.split(":2,")[1] for p in files), files
    m.logout()
