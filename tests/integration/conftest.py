"""The integration harness: start the real `hermod serve` on free ports with
a fresh data directory, wait until it is ready, stop it, and attach its log
to a failing test.

    def test_something(hermod):
        hermod.add_user("alice@example.test", "secret")
        imap = imaplib.IMAP4("127.0.0.1", hermod.port("imap"))

Every setting named `listen*` that `hermod help config` declares gets a free
loopback port, so a protocol's listeners appear here as soon as they are
declared in src/cmd/settings.c.
"""
import os
import re
import signal
import socket
import subprocess
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.abspath(os.environ.get("HERMOD_BUILD", os.path.join(ROOT, "build")))
BINARY = os.path.join(BUILD, "src", "cmd", "hermod")
DOMAIN = "example.test"


def free_port(taken=()):
    """A free loopback port not in taken (the kernel may hand out a port
    again as soon as the probe socket is closed)."""
    while True:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port not in taken:
            return port


def declared_settings():
    """{(section, name): default} from `hermod help config`."""
    out = subprocess.run([BINARY, "help", "config"], check=True, capture_output=True,
                         text=True).stdout
    settings, section = {}, None
    for line in out.splitlines():
        m = re.match(r"^\[(\w+)\]$", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"^;?(\w+) =\s*(.*)$", line)
        if m and section:
            settings[(section, m.group(1))] = m.group(2)
    return settings


class Hermod:
    """One hermod server with its own data directory and ports."""

    def __init__(self, tmpdir, overrides=None):
        self.dir = tmpdir
        self.data_dir = os.path.join(tmpdir, "var")
        self.log_path = os.path.join(tmpdir, "hermod.log")
        self.config_path = os.path.join(tmpdir, "hermod.ini")
        self.proc = None
        self.ports = {}
        self.log_offset = 0
        sections = {
            "server": {
                "data_dir": self.data_dir,
                "log_file": self.log_path,
                "log_level": "debug",
                "hostname": "mail." + DOMAIN,
                "create_demo_user": "no",
                "default_domain": DOMAIN,
                "shutdown_grace": "5s",
            },
            # Tests never reach the Internet: DNS goes to a closed port
            # on loopback unless a test configures routes or a resolver.
            "transport": {"resolver": "127.0.0.1:9"},
        }
        declared = declared_settings()
        # Every EWS response body is captured and checked against
        # Microsoft's schemas when the server stops (ewsschema.py).
        self.ews_dump_dir = None
        if ("ews", "dump_dir") in declared:
            self.ews_dump_dir = os.path.join(tmpdir, "ews-dump")
            os.makedirs(self.ews_dump_dir, exist_ok=True)
            sections["ews"] = {"dump_dir": self.ews_dump_dir}
        for (sec, name), default in declared.items():
            if name.startswith("listen") and default:
                port = free_port(set(self.ports.values()))
                self.ports[(sec, name)] = port
                sections.setdefault(sec, {})[name] = f"127.0.0.1:{port}"
        for sec, kv in (overrides or {}).items():
            for k, v in kv.items():
                if v is None:
                    sections.get(sec, {}).pop(k, None)
                else:
                    sections.setdefault(sec, {})[k] = v
        self.sections = sections
        self.write_config()

    def write_config(self):
        with open(self.config_path, "w") as f:
            for sec, kv in self.sections.items():
                f.write(f"[{sec}]\n")
                for k, v in kv.items():
                    f.write(f"{k} = {v}\n")
                f.write("\n")

    # --- the command line ---
    def cli(self, *args, check=True, input=None):
        r = subprocess.run([BINARY, "-c", self.config_path, *args], capture_output=True,
                           text=True, input=input, timeout=120)
        if check and r.returncode != 0:
            raise AssertionError(f"hermod {' '.join(args)} exited {r.returncode}:\n"
                                 f"{r.stdout}{r.stderr}")
        return r

    def add_domain(self, name=DOMAIN):
        return self.cli("domain", "add", name, check=False)

    def add_user(self, address, password, *extra):
        domain = address.split("@", 1)[1]
        r = self.cli("domain", "list", check=False)
        if domain not in r.stdout.split():
            self.cli("domain", "add", domain)
        self.cli("user", "add", address, "--password", password, *extra)

    # --- the daemon ---
    def port(self, section, name="listen"):
        return self.ports[(section, name)]

    def start(self, wait=True):
        """Starts `hermod serve`. A free port can be taken by another
        process (other test runs share the machine) between free_port()
        and the server's bind: then that listener gets a new port and the
        server is started again."""
        for _ in range(5):
            self._spawn()
            if not wait:
                return self
            try:
                self.wait_ready()
                return self
            except AssertionError:
                if not self._move_taken_port():
                    raise
        raise AssertionError("hermod serve: no free ports\n" + self.output())

    def _move_taken_port(self):
        if self.proc.poll() is None:
            return False
        self.stdout.close()
        with open(os.path.join(self.dir, "stdout.txt"), "rb") as f:
            f.seek(self.stdout_offset)
            out = f.read().decode(errors="replace")
        taken = re.findall(r":(\d+): Address already in use", out)
        moved = False
        for (sec, name), port in list(self.ports.items()):
            if str(port) in taken:
                port = free_port(set(self.ports.values()))
                self.ports[(sec, name)] = port
                self.sections[sec][name] = f"127.0.0.1:{port}"
                moved = True
        if moved:
            self.write_config()
        return moved

    def _spawn(self):
        self.log_offset = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        self.stdout = open(os.path.join(self.dir, "stdout.txt"), "ab")
        self.stdout_offset = self.stdout.tell()
        self.proc = subprocess.Popen([BINARY, "-c", self.config_path, "serve"],
                                     stdout=self.stdout, stderr=subprocess.STDOUT,
                                     cwd=self.dir)

    def wait_ready(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"hermod serve exited {self.proc.returncode}\n"
                                     + self.output())
            if "hermod ready" in self.log_text(since_start=True):
                return
            time.sleep(0.05)
        raise AssertionError("hermod serve did not become ready\n" + self.output())

    def stop(self, timeout=20):
        """SIGTERM and wait; returns the exit status (0: clean shutdown)."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("hermod serve did not stop within %ds of SIGTERM" % timeout)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def restart(self):
        self.stop()
        return self.start()

    def log_text(self, since_start=False):
        try:
            with open(self.log_path, errors="replace") as f:
                if since_start:
                    f.seek(self.log_offset)
                return f.read()
        except FileNotFoundError:
            return ""

    def output(self):
        path = os.path.join(self.dir, "stdout.txt")
        out = open(path, errors="replace").read() if os.path.exists(path) else ""
        return f"--- stdout/stderr ---\n{out[-5000:]}\n--- log ---\n{self.log_text()[-20000:]}"


_current = []


@pytest.fixture
def hermod_factory():
    """Makes servers; each is stopped at the end of the test, and a server
    that does not shut down cleanly (or logged a panic or a sanitizer
    report) fails the test."""
    made = []

    def make(overrides=None, start=True, domain=True):
        d = tempfile.mkdtemp(prefix="hermod-it-")
        h = Hermod(d, overrides)
        made.append(h)
        _current.append(h)
        if domain:
            h.add_domain()
        if start:
            h.start()
        return h

    yield make
    problems = []
    for h in made:
        if h.proc is not None and h.proc.poll() is None:
            rc = h.stop()
            if rc != 0:
                problems.append(f"hermod serve exited {rc} on SIGTERM\n" + h.output())
        if h.ews_dump_dir is not None:
            import ewsschema
            for err in ewsschema.check_dump_dir(h.ews_dump_dir):
                problems.append("EWS response does not validate: " + err)
        text = h.log_text()
        for bad in ("panic:", "AddressSanitizer", "runtime error:"):
            if bad in text:
                problems.append(f"log contains {bad!r}\n" + h.output())
        _current.remove(h)
    if problems:
        pytest.fail("\n".join(problems))


@pytest.fixture
def hermod(hermod_factory):
    """A running server with the domain example.test and no users."""
    return hermod_factory()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and _current:
        for h in _current:
            rep.sections.append((f"hermod log ({h.dir})", h.output()[-30000:]))
