"""The directory subcommands of the real binary: hermod domain, user and
group against a fresh data directory, every error with its exit status,
and the promise that no plain password is ever written to disk."""
import os
import re
import stat
import subprocess

import pytest

BUILD = os.environ.get("HERMOD_BUILD", "./build")
HERMOD = os.path.join(BUILD, "src", "cmd", "hermod")


class Cli:
    def __init__(self, tmp_path):
        # A nested data_dir that does not exist yet: the CLI creates it.
        self.data_dir = tmp_path / "var" / "data"
        self.config = tmp_path / "hermod.ini"
        self.config.write_text(f"[server]\ndata_dir = {self.data_dir}\n")

    def run(self, *args, stdin=None):
        return subprocess.run([HERMOD, "-c", str(self.config)] + list(args), input=stdin,
                              capture_output=True, text=True, timeout=60)

    def ok(self, *args, stdin=None):
        r = self.run(*args, stdin=stdin)
        assert r.returncode == 0, f"{args}: {r.returncode} {r.stderr}"
        assert r.stderr == ""
        return r.stdout

    def fails(self, *args, stdin=None, message, status=1):
        r = self.run(*args, stdin=stdin)
        assert r.returncode == status, f"{args}: {r.returncode} {r.stdout} {r.stderr}"
        assert message in r.stderr, f"{args}: {r.stderr!r} lacks {message!r}"
        if status == 2:
            assert "usage: hermod" in r.stderr
        else:
            assert r.stderr.startswith("hermod: ")
        return r.stderr

    def files(self):
        """Every file in the data directory, with its bytes."""
        out = {}
        for root, _, names in os.walk(self.data_dir):
            for n in names:
                p = os.path.join(root, n)
                with open(p, "rb") as f:
                    out[p] = f.read()
        return out


@pytest.fixture
def cli(tmp_path):
    if not os.access(HERMOD, os.X_OK):
        pytest.fail(f"no hermod binary at {HERMOD} (set HERMOD_BUILD)")
    return Cli(tmp_path)


def test_domains(cli):
    assert cli.ok("domain", "add", "Example.COM") == "domain example.com added\n"
    assert os.path.isdir(cli.data_dir)
    db = cli.data_dir / "directory.db"
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(cli.data_dir).st_mode) == 0o700
    cli.ok("domain", "add", "b.example")
    assert cli.ok("domain", "list") == "b.example\t0 users\nexample.com\t0 users\n"
    cli.fails("domain", "add", "example.com", message="domain example.com already exists")
    cli.fails("domain", "add", "EXAMPLE.com", message="already exists")
    cli.fails("domain", "add", "bad..example", message="invalid domain 'bad..example'")
    cli.fails("domain", "add", "x-.example", message="ends with a hyphen")
    # "--" ends the options: a name that looks like one is a name.
    cli.fails("domain", "add", "--", "-x.example", message="starts with a hyphen")
    cli.fails("domain", "add", "[192.0.2.1]", message="address literals")
    cli.fails("domain", "del", "nowhere.example", message="no such domain: nowhere.example")
    assert cli.ok("domain", "del", "b.example") == "domain b.example deleted\n"
    assert cli.ok("domain", "list") == "example.com\t0 users\n"


def test_domain_del_in_use(cli):
    cli.ok("domain", "add", "example.com")
    cli.ok("domain", "add", "example.net")
    cli.ok("user", "add", "a@example.com", "--password", "pw-a")
    cli.ok("user", "add", "b@example.net", "--password", "pw-b")
    cli.ok("user", "alias", "add", "b@example.net", "bee@example.com")
    cli.ok("group", "add", "g@example.com")
    err = cli.fails("domain", "del", "example.com",
                    message="domain example.com is still in use: 1 user(s), 1 group(s), "
                            "1 alias(es)")
    assert "--force" in err
    out = cli.ok("domain", "del", "example.com", "--force")
    assert out == "domain example.com deleted\nuser a@example.com deleted\n"
    assert cli.ok("domain", "list") == "example.net\t1 user\n"
    # b survives without the alias that was in the deleted domain.
    assert "aliases:       none" in cli.ok("user", "show", "b@example.net")
    cli.fails("user", "show", "a@example.com", message="no such user: a@example.com")


def test_users(cli):
    cli.ok("domain", "add", "example.com")
    out = cli.ok("user", "add", "John.Smith@Example.com", "--name", "John Smith",
                 "--quota", "2g", "--password", "horse battery")
    assert re.fullmatch(r"user John\.Smith@example\.com added \(id \d+\)\n", out)
    # --password-stdin: one line, line end stripped.
    out = cli.ok("user", "add", "ann@example.com", "--password-stdin", stdin="s3cret pw\r\n")
    assert "password:" not in out
    cli.ok("user", "auth", "ann@example.com", "--password", "s3cret pw")
    # No password given: a strong one is generated, printed, and works.
    out = cli.ok("user", "add", "gen@example.com")
    m = re.search(r"^password: (\S+)$", out, re.M)
    assert m and len(m.group(1)) >= 16
    assert cli.ok("user", "auth", "GEN@example.com", "--password", m.group(1)) == \
        "ok: gen@example.com\n"

    lines = cli.ok("user", "list").splitlines()
    assert lines == [
        "ann@example.com\t\tenabled\tunlimited",
        "gen@example.com\t\tenabled\tunlimited",
        "John.Smith@example.com\tJohn Smith\tenabled\t2147483648 bytes (2 GiB)",
    ]
    assert cli.ok("user", "list", "example.com").splitlines() == lines
    assert cli.ok("user", "list", "other.example") == ""

    show = cli.ok("user", "show", "john.smith@EXAMPLE.COM")
    fields = dict(re.findall(r"^([a-z ]+):\s+(.*)$", show, re.M))
    assert fields["address"] == "John.Smith@example.com"
    assert fields["display name"] == "John Smith"
    assert fields["status"] == "enabled"
    assert fields["password"] == "set"
    assert fields["nt hash"] == "none"
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}",
                        fields["mailbox guid"])
    assert fields["legacy dn"] == (
        "/o=hermod/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/"
        f"cn={int(fields['id']):08x}-John.Smith")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", fields["created"])

    cli.ok("user", "set", "ann@example.com", "--name", "Ann Example", "--quota", "500m")
    show = cli.ok("user", "show", "ann@example.com")
    assert "display name:  Ann Example\n" in show
    assert "quota:         524288000 bytes (500 MiB)\n" in show
    cli.ok("user", "set", "ann@example.com", "--quota", "unlimited")
    assert "quota:         unlimited\n" in cli.ok("user", "show", "ann@example.com")


def test_user_errors(cli):
    cli.ok("domain", "add", "example.com")
    cli.ok("user", "add", "taken@example.com", "--password", "x")
    cli.fails("user", "add", "x@nowhere.example", "--password", "x",
              message="domain nowhere.example does not exist")
    cli.fails("user", "add", "taken@example.com", "--password", "x",
              message="address taken@example.com is already taken by a user")
    cli.fails("user", "add", "TAKEN@example.com", "--password", "x", message="already taken")
    cli.fails("user", "add", "not-an-address", "--password", "x", message="missing @")
    cli.fails("user", "add", "a..b@example.com", "--password", "x", message="invalid address")
    cli.fails("user", "add", "x" * 65 + "@example.com", "--password", "x",
              message="local part longer than 64")
    cli.fails("user", "add", "q@example.com", "--password", "", message="empty password")
    cli.fails("user", "add", "q@example.com", "--password-stdin", stdin="",
              message="no password on stdin")
    cli.fails("user", "add", "q@example.com", "--password-stdin", stdin="p" * 1025 + "\n",
              message="longer than 1024")
    cli.fails("user", "add", "q@example.com", "--name", "a\tb", "--password", "x",
              message="control character in display name")
    cli.fails("user", "show", "nobody@example.com", message="no such user: nobody@example.com")
    cli.fails("user", "del", "nobody@example.com", message="no such user")
    cli.fails("user", "passwd", "nobody@example.com", "--password", "x", message="no such user")
    cli.fails("user", "set", "nobody@example.com", "--name", "x", message="no such user")
    cli.fails("user", "enable", "nobody@example.com", message="no such user")
    cli.fails("user", "alias", "add", "nobody@example.com", "a@example.com",
              message="no such user")
    # Nothing was created by the failures.
    assert cli.ok("user", "list") == "taken@example.com\t\tenabled\tunlimited\n"


def test_usage_errors(cli):
    u = ("user",)
    cli.fails(*u, message="missing action", status=2)
    cli.fails("user", "frobnicate", "a@example.com", message="unknown action", status=2)
    cli.fails("user", "add", message="expected one ADDRESS", status=2)
    cli.fails("user", "add", "a@x", "b@x", message="expected one ADDRESS", status=2)
    cli.fails("user", "add", "a@x", "--bogus", message="unknown option --bogus", status=2)
    cli.fails("user", "add", "a@x", "-p", message="unknown option -p", status=2)
    cli.fails("user", "add", "a@x", "--password", message="--password needs a value", status=2)
    cli.fails("user", "add", "a@x", "--password", "1", "--password-stdin", stdin="2\n",
              message="exclude each other", status=2)
    cli.fails("user", "add", "a@x", "--nt-hash=yes", message="takes no value", status=2)
    cli.fails("user", "add", "a@x", "--name", "a", "--name", "b", message="given twice",
              status=2)
    cli.fails("user", "add", "a@x", "--quota", "lots", message="--quota: not a size",
              status=2)
    cli.fails("user", "show", "a@x", "--password", "x", message="does not take --password",
              status=2)
    cli.fails("user", "passwd", "a@x", "--nt-hash", "--no-nt-hash",
              message="exclude each other", status=2)
    cli.fails("user", "set", "a@x", message="set needs --name or --quota", status=2)
    cli.fails("user", "auth", "a@x", message="auth needs --password", status=2)
    cli.fails("user", "alias", "rename", "a@x", "b@x", message="alias add|del", status=2)
    cli.fails("user", "alias", "add", "a@x", message="wrong number of arguments", status=2)
    cli.fails("user", "list", "a", "b", message="at most a DOMAIN", status=2)
    for bad in (("send-as",), ("send-as", "add", "a@x"), ("send-as", "list"),
                ("send-as", "list", "a@x", "b@x"), ("send-as", "grant", "a@x", "b@x"),
                ("send-as", "del", "a@x", "b@x", "c@x")):
        cli.fails("user", *bad, message="send-as add|del USER TARGET or send-as list USER",
                  status=2)
    cli.fails("domain", message="missing action", status=2)
    cli.fails("domain", "add", message="expected one NAME", status=2)
    cli.fails("domain", "list", "x", message="list takes no argument", status=2)
    cli.fails("domain", "add", "x.example", "--force", message="--force is for del", status=2)
    cli.fails("domain", "rename", "x", message="unknown action", status=2)
    cli.fails("group", message="missing action", status=2)
    cli.fails("group", "add", message="expected one ADDRESS", status=2)
    cli.fails("group", "member", "add", "g@x", message="member add|del GROUP MEMBER", status=2)
    cli.fails("group", "member", "list", "g@x", "m@x", message="member add|del", status=2)
    cli.fails("group", "del", "g@x", "--name", "n", message="--name is for add", status=2)
    # Usage errors are found before anything is written.
    assert not os.path.exists(cli.data_dir)


def test_passwd_and_auth(cli):
    cli.ok("domain", "add", "example.com")
    cli.ok("user", "add", "u@example.com", "--password", "first")
    cli.ok("user", "auth", "u@example.com", "--password", "first")
    assert cli.ok("user", "passwd", "U@example.com", "--password", "second") == \
        "password of u@example.com changed\n"
    cli.fails("user", "auth", "u@example.com", "--password", "first",
              message="authentication failed")
    cli.ok("user", "auth", "u@example.com", "--password", "second")
    cli.ok("user", "passwd", "u@example.com", "--password-stdin", stdin="third\n")
    cli.ok("user", "auth", "u@example.com", "--password-stdin", stdin="third\n")
    out = cli.ok("user", "passwd", "u@example.com")
    generated = re.search(r"^password: (\S+)$", out, re.M).group(1)
    cli.ok("user", "auth", "u@example.com", "--password", generated)
    cli.fails("user", "passwd", "u@example.com", "--password", "", message="empty password")
    cli.fails("user", "auth", "nobody@example.com", "--password", "x",
              message="authentication failed")
    # Disabled users cannot log in, even with the right password.
    assert cli.ok("user", "disable", "u@example.com") == "user u@example.com disabled\n"
    assert "status:        disabled" in cli.ok("user", "show", "u@example.com")
    cli.fails("user", "auth", "u@example.com", "--password", generated,
              message="authentication disabled")
    assert cli.ok("user", "enable", "u@example.com") == "user u@example.com enabled\n"
    cli.ok("user", "auth", "u@example.com", "--password", generated)


def test_nt_hash_opt_in(cli):
    cli.ok("domain", "add", "example.com")
    cli.ok("user", "add", "nt@example.com", "--password", "Password", "--nt-hash")
    assert "nt hash:       stored" in cli.ok("user", "show", "nt@example.com")
    cli.ok("user", "passwd", "nt@example.com", "--password", "other")
    assert "nt hash:       stored" in cli.ok("user", "show", "nt@example.com")
    cli.ok("user", "passwd", "nt@example.com", "--password", "other", "--no-nt-hash")
    assert "nt hash:       none" in cli.ok("user", "show", "nt@example.com")
    cli.ok("user", "passwd", "nt@example.com", "--password", "Password", "--nt-hash")
    assert "nt hash:       stored" in cli.ok("user", "show", "nt@example.com")
    # MS-NLMP 4.2.2.1.2: NTOWFv1("Password"), stored as 16 bytes.
    blob = bytes.fromhex("a4f49c406510bdcab6824ee7c30fd852")
    assert any(blob in data for data in cli.files().values())


def test_aliases(cli):
    cli.ok("domain", "add", "example.com")
    cli.ok("domain", "add", "example.org")
    cli.ok("user", "add", "alice@example.com", "--password", "a")
    cli.ok("user", "add", "bob@example.com", "--password", "b")
    assert cli.ok("user", "alias", "add", "alice@example.com", "Ally@Example.org") == \
        "alias Ally@Example.org added to alice@example.com\n"
    cli.ok("user", "alias", "add", "alice@example.com", "al@example.com")
    assert "aliases:       al@example.com Ally@example.org\n" in \
        cli.ok("user", "show", "alice@example.com")
    # The alias names alice everywhere, in any case.
    assert "address:       alice@example.com" in cli.ok("user", "show", "ALLY@example.org")
    cli.ok("user", "auth", "ally@example.org", "--password", "a")
    cli.fails("user", "alias", "add", "bob@example.com", "ally@example.org",
              message="address ally@example.org is already taken by a user")
    cli.fails("user", "alias", "add", "bob@example.com", "alice@example.com",
              message="already taken by a user")
    cli.fails("user", "add", "al@example.com", "--password", "x", message="already taken")
    cli.fails("user", "alias", "add", "bob@example.com", "b@nowhere.example",
              message="domain nowhere.example does not exist")
    cli.fails("user", "alias", "add", "bob@example.com", "b b@example.com",
              message="invalid address")
    cli.fails("user", "alias", "del", "bob@example.com", "al@example.com",
              message="al@example.com is not an alias of bob@example.com")
    cli.fails("user", "alias", "del", "alice@example.com", "alice@example.com",
              message="is not an alias")
    assert cli.ok("user", "alias", "del", "alice@example.com", "AL@example.com") == \
        "alias AL@example.com removed from alice@example.com\n"
    cli.fails("user", "show", "al@example.com", message="no such user")
    cli.ok("user", "alias", "add", "bob@example.com", "al@example.com")
    # Deleting a user frees its aliases.
    assert cli.ok("user", "del", "alice@example.com") == "user alice@example.com deleted\n"
    cli.ok("user", "alias", "add", "bob@example.com", "ally@example.org")
    cli.fails("user", "auth", "alice@example.com", "--password", "a",
              message="authentication failed")


def test_send_as(cli):
    cli.ok("domain", "add", "example.com")
    for u in ("alice", "bob", "shared"):
        cli.ok("user", "add", f"{u}@example.com", "--password", u)
    cli.ok("user", "alias", "add", "shared@example.com", "info@example.com")
    cli.ok("group", "add", "sales@example.com", "--name", "Sales Team")
    assert cli.ok("user", "send-as", "list", "alice@example.com") == ""
    # By an alias of the grantee and of the target.
    cli.ok("user", "alias", "add", "alice@example.com", "ali@example.com")
    assert cli.ok("user", "send-as", "add", "ali@example.com", "INFO@example.com") == \
        "alice@example.com may now send as INFO@example.com\n"
    cli.ok("user", "send-as", "add", "alice@example.com", "sales@example.com")
    assert cli.ok("user", "send-as", "list", "ALICE@example.com") == \
        "sales@example.com\tgroup\tSales Team\nshared@example.com\tuser\t\n"
    cli.fails("user", "send-as", "add", "alice@example.com", "shared@example.com",
              message="shared@example.com is already granted")
    cli.fails("user", "send-as", "add", "alice@example.com", "ali@example.com",
              message="themself")
    cli.fails("user", "send-as", "add", "alice@example.com", "ghost@example.com",
              message="no user or group has the address ghost@example.com")
    cli.fails("user", "send-as", "add", "alice@example.com", "b b@example.com",
              message="invalid address")
    cli.fails("user", "send-as", "add", "ghost@example.com", "bob@example.com",
              message="no such user: ghost@example.com")
    cli.fails("user", "send-as", "add", "sales@example.com", "bob@example.com",
              message="no such user: sales@example.com")
    cli.fails("user", "send-as", "list", "ghost@example.com", message="no such user")
    cli.fails("user", "send-as", "del", "bob@example.com", "shared@example.com",
              message="bob@example.com may not send as shared@example.com")
    assert cli.ok("user", "send-as", "del", "alice@example.com", "shared@example.com") == \
        "alice@example.com may no longer send as shared@example.com\n"
    assert cli.ok("user", "send-as", "list", "alice@example.com") == \
        "sales@example.com\tgroup\tSales Team\n"
    # Deleting the target or the grantee takes the grant with it.
    cli.ok("user", "send-as", "add", "bob@example.com", "alice@example.com")
    cli.ok("group", "del", "sales@example.com")
    assert cli.ok("user", "send-as", "list", "alice@example.com") == ""
    cli.ok("user", "del", "alice@example.com")
    assert cli.ok("user", "send-as", "list", "bob@example.com") == ""


def test_groups(cli):
    cli.ok("domain", "add", "example.com")
    for u in ("a", "b", "c"):
        cli.ok("user", "add", f"{u}@example.com", "--password", u)
    cli.ok("user", "alias", "add", "c@example.com", "carol@example.com")
    out = cli.ok("group", "add", "staff@example.com", "--name", "All Staff")
    assert re.fullmatch(r"group staff@example\.com added \(id \d+\)\n", out)
    cli.ok("group", "add", "eng@example.com", "--name", "Engineering")
    cli.ok("group", "add", "ops@example.com")
    assert cli.ok("group", "member", "add", "staff@example.com", "a@example.com") == \
        "a@example.com added to staff@example.com\n"
    cli.ok("group", "member", "add", "staff@example.com", "eng@example.com")
    cli.ok("group", "member", "add", "eng@example.com", "b@example.com")
    cli.ok("group", "member", "add", "eng@example.com", "ops@example.com")
    cli.ok("group", "member", "add", "ops@example.com", "CAROL@example.com")
    # A cycle: ops -> staff -> eng -> ops. Expansion still terminates.
    cli.ok("group", "member", "add", "ops@example.com", "staff@example.com")
    cli.ok("user", "disable", "b@example.com")

    assert cli.ok("group", "list").splitlines() == [
        "eng@example.com\tEngineering\t2 members",
        "ops@example.com\t\t2 members",
        "staff@example.com\tAll Staff\t2 members",
    ]
    show = cli.ok("group", "show", "STAFF@example.com")
    assert "display name:  All Staff\n" in show
    assert "members:       a@example.com eng@example.com (group)\n" in show
    assert "expands to:    a@example.com b@example.com (disabled) c@example.com\n" in show
    assert "legacy dn:     /o=hermod/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)" \
        "/cn=Recipients/cn=" in show

    cli.fails("group", "add", "a@example.com", message="already taken by a user")
    cli.fails("group", "add", "eng@example.com", message="already taken by a group")
    cli.fails("user", "add", "eng@example.com", "--password", "x",
              message="already taken by a group")
    cli.fails("group", "add", "g@nowhere.example", message="does not exist")
    cli.fails("group", "member", "add", "staff@example.com", "a@example.com",
              message="a@example.com is already a member")
    cli.fails("group", "member", "add", "staff@example.com", "zed@example.com",
              message="no user or group has the address zed@example.com")
    cli.fails("group", "member", "add", "staff@example.com", "staff@example.com",
              message="cannot be a member of itself")
    cli.fails("group", "member", "add", "nogroup@example.com", "a@example.com",
              message="no such group: nogroup@example.com")
    cli.fails("group", "member", "add", "a@example.com", "b@example.com",
              message="no such group: a@example.com")
    cli.fails("group", "member", "del", "staff@example.com", "b@example.com",
              message="b@example.com is not a member of staff@example.com")
    cli.fails("group", "show", "nogroup@example.com", message="no such group")
    cli.fails("group", "del", "nogroup@example.com", message="no such group")

    assert cli.ok("group", "member", "del", "staff@example.com", "eng@example.com") == \
        "eng@example.com removed from staff@example.com\n"
    assert "expands to:    a@example.com\n" in cli.ok("group", "show", "staff@example.com")
    assert cli.ok("group", "del", "ops@example.com") == "group ops@example.com deleted\n"
    assert "members:       b@example.com\n" in cli.ok("group", "show", "eng@example.com")
    # Deleting a user takes it out of its groups.
    cli.ok("user", "del", "a@example.com")
    show = cli.ok("group", "show", "staff@example.com")
    assert "members:       none\n" in show and "expands to:    nobody\n" in show


def test_no_plain_password_on_disk(cli):
    """Every password the CLI was given or made, and every form of it the
    directory keeps, must never be readable from the data directory."""
    secrets = ["Pl4in-Text-Secret-one", "Sec0nd-Plain-Secret", "Th1rd-Via-Stdin-Secret"]
    cli.ok("domain", "add", "example.com")
    cli.ok("user", "add", "one@example.com", "--password", secrets[0], "--nt-hash")
    cli.ok("user", "add", "two@example.com", "--password-stdin", stdin=secrets[2] + "\n")
    out = cli.ok("user", "add", "three@example.com")
    secrets.append(re.search(r"^password: (\S+)$", out, re.M).group(1))
    cli.ok("user", "passwd", "one@example.com", "--password", secrets[1])
    out = cli.ok("user", "passwd", "two@example.com")
    secrets.append(re.search(r"^password: (\S+)$", out, re.M).group(1))
    files = cli.files()
    assert any(p.endswith("directory.db") for p in files)
    hashes = 0
    for path, data in files.items():
        for s in secrets:
            for enc in (s.encode(), s.encode("utf-16-le")):
                assert enc not in data, f"{s!r} found in {path}"
        hashes += data.count(b"$y$")
    # The yescrypt hashes are what is stored instead.
    assert hashes >= 3


def test_help_lists_commands(cli):
    r = subprocess.run([HERMOD, "help"], capture_output=True, text=True)
    assert r.returncode == 0
    for c in ("domain", "user", "group"):
        assert re.search(rf"^  {c} ", r.stdout, re.M)
    r = subprocess.run([HERMOD, "help", "group"], capture_output=True, text=True)
    assert "hermod group member add|del GROUP MEMBER" in r.stdout
    r = subprocess.run([HERMOD, "help", "user"], capture_output=True, text=True)
    assert "hermod user send-as add|del USER TARGET" in r.stdout
    assert "hermod user send-as list USER" in r.stdout


def test_unwritable_data_dir(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    config = tmp_path / "h.ini"
    config.write_text(f"[server]\ndata_dir = {blocker}/data\n")
    r = subprocess.run([HERMOD, "-c", str(config), "domain", "list"], capture_output=True,
                       text=True)
    assert r.returncode == 1
    assert "cannot create data directory" in r.stderr
