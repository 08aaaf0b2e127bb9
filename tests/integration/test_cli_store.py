"""hermod store ls|show against a fresh data directory: a new user's
mailbox has the special folders of MS-OXOSFLD, and show prints an
object's properties by name, type and value."""
import os
import re
import subprocess

import pytest

BUILD = os.environ.get("HERMOD_BUILD", "./build")
HERMOD = os.path.join(BUILD, "src", "cmd", "hermod")


class Cli:
    def __init__(self, tmp_path):
        self.data_dir = tmp_path / "data"
        self.config = tmp_path / "hermod.ini"
        self.config.write_text(f"[server]\ndata_dir = {self.data_dir}\n")

    def run(self, *args):
        return subprocess.run([HERMOD, "-c", str(self.config)] + list(args),
                              capture_output=True, text=True, timeout=60)

    def ok(self, *args):
        r = self.run(*args)
        assert r.returncode == 0, f"{args}: {r.returncode} {r.stderr}"
        return r.stdout


@pytest.fixture
def cli(tmp_path):
    if not os.access(HERMOD, os.X_OK):
        pytest.fail(f"no hermod binary at {HERMOD} (set HERMOD_BUILD)")
    c = Cli(tmp_path)
    c.ok("domain", "add", "example.test")
    c.ok("user", "add", "alice@example.test", "--password", "correct horse")
    return c


SPECIAL = ["Inbox", "Outbox", "Sent Items", "Deleted Items", "Drafts", "Calendar",
           "Contacts", "Tasks", "Notes", "Journal", "Junk Email", "Sync Issues",
           "Conflicts", "Local Failures", "Server Failures", "Top of Information Store",
           "Finder", "Common Views", "Views", "Shortcuts", "Deferred Action",
           "Spooler Queue", "Schedule", "Reminders"]


def folders(out):
    """FID -> (depth, name) from `store ls USER`."""
    rows = {}
    for line in out.splitlines()[1:]:
        m = re.match(r"(\d+-[0-9a-f]{12})\s+(\d+)\s+(\d+)\s+(\d+)  ( *)(.*)$", line)
        assert m, line
        name = re.sub(r" \[.*$| \(search\)$", "", m.group(6))
        rows[name] = (m.group(1), len(m.group(5)) // 2)
    return rows


def test_new_user_has_special_folders(cli):
    out = cli.ok("store", "ls", "alice@example.test")
    rows = folders(out)
    for name in SPECIAL:
        assert name in rows, f"{name} missing from:\n{out}"
    assert rows["Root"][1] == 0
    assert rows["Top of Information Store"][1] == 1
    assert rows["Inbox"][1] == 2
    assert rows["Conflicts"][1] == 3
    assert "Inbox [IPF.Note]" in out
    assert "Calendar [IPF.Appointment]" in out
    assert "Contacts [IPF.Contact]" in out


def test_show_folder_and_empty_inbox(cli):
    rows = folders(cli.ok("store", "ls", "alice@example.test"))
    inbox = rows["Inbox"][0]
    out = cli.ok("store", "show", "alice@example.test", inbox)
    assert out.startswith(f"folder {inbox}")
    assert re.search(r'PR_DISPLAY_NAME \(0x3001001f\)\s+PT_UNICODE\s+"Inbox"', out)
    assert re.search(r"PR_CONTENT_COUNT \(0x36020003\)\s+PT_LONG\s+0", out)
    # The special folders' EntryIDs that clients look for on the Inbox.
    for tag in ("PR_IPM_APPOINTMENT_ENTRYID", "PR_IPM_CONTACT_ENTRYID",
                "PR_IPM_DRAFTS_ENTRYID", "PR_ADDITIONAL_REN_ENTRYIDS"):
        assert tag in out
    # The same folder by its numeric forms.
    glob = int(inbox.split("-")[1], 16)
    assert cli.ok("store", "show", "alice@example.test", str(glob)) == out
    # The whole 64-bit ID as MS-OXCDATA lays it out: replica id (LE) then
    # the counter's bytes big-endian.
    full = 1
    for i in range(6):
        full |= ((glob >> (8 * (5 - i))) & 0xff) << (16 + 8 * i)
    assert cli.ok("store", "show", "alice@example.test", hex(full)) == out
    header = cli.ok("store", "ls", "alice@example.test", "Inbox")
    assert header.split() == ["UID", "MID", "RECEIVED", "READ", "SIZE", "FROM", "SUBJECT"]
    cli.ok("store", "ls", "alice@example.test", "Sync Issues/Conflicts")


def test_errors(cli):
    r = cli.run("store", "ls", "nobody@example.test")
    assert r.returncode == 1 and "no such user" in r.stderr
    r = cli.run("store", "ls", "alice@example.test", "No/Such")
    assert r.returncode == 1 and "no such folder" in r.stderr
    r = cli.run("store", "show", "alice@example.test", "1-00000000ffff")
    assert r.returncode == 1 and "no such folder or message" in r.stderr
    r = cli.run("store", "show", "alice@example.test", "x-y")
    assert r.returncode == 1 and "not an ID" in r.stderr
    r = cli.run("store", "frob", "alice@example.test")
    assert r.returncode == 2 and "usage: hermod store" in r.stderr
    r = cli.run("store")
    assert r.returncode == 2


def test_user_del_removes_mailbox(cli):
    mailboxes = cli.data_dir / "mailboxes"
    assert len([n for n in os.listdir(mailboxes) if n.endswith(".db")]) == 1
    for n in os.listdir(mailboxes):
        assert os.stat(mailboxes / n).st_mode & 0o077 == 0
    cli.ok("user", "del", "alice@example.test")
    assert [n for n in os.listdir(mailboxes) if n.endswith(".db")] == []
