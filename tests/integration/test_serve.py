"""hermod serve: the embedded default's first start, the ready line, a clean
shutdown on SIGTERM, one server per data directory, and configuration
errors that name the file, the line and the reason."""
import os
import re
import stat
import subprocess

from conftest import BINARY


def test_first_start_creates_demo_user_and_certificate(hermod_factory):
    h = hermod_factory(overrides={"server": {"create_demo_user": "yes"}}, start=False,
                       domain=False)
    h.start()
    out = open(os.path.join(h.dir, "stdout.txt")).read()
    m = re.search(r"demo user:\s+(\S+)\s+password: (\S+)", out)
    assert m, out
    address, password = m.group(1), m.group(2)
    assert address == "demo@example.test"
    # The printed password really logs in, through the server's auth path.
    r = h.cli("user", "auth", address, "--password", password, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    r = h.cli("user", "auth", address, "--password", password + "x", check=False)
    assert r.returncode != 0
    # A self-signed certificate, its key readable by the owner only.
    key = os.path.join(h.data_dir, "tls", "key.pem")
    cert = os.path.join(h.data_dir, "tls", "cert.pem")
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    text = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-text"],
                          capture_output=True, text=True, check=True).stdout
    assert "DNS:mail.example.test" in text and "DNS:localhost" in text
    assert h.stop() == 0
    # The second start creates nothing and prints no password.
    h.start()
    assert h.stop() == 0
    out = open(os.path.join(h.dir, "stdout.txt")).read()
    assert out.count("password: ") == 1
    assert "its password was printed at first start" in out
    r = h.cli("user", "list")
    assert r.stdout.count("demo@example.test") == 1


def test_sigterm_is_a_clean_shutdown(hermod):
    assert "hermod ready" in hermod.log_text()
    assert hermod.stop() == 0
    log = hermod.log_text()
    assert "hermod stopped" in log


def test_one_server_per_data_directory(hermod):
    r = subprocess.run([BINARY, "-c", hermod.config_path, "serve"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 1
    assert "another hermod serve is using" in r.stderr
    # The first one is unharmed.
    assert hermod.proc.poll() is None


def test_bad_configuration_names_file_line_and_reason(tmp_path):
    bad = tmp_path / "bad.ini"
    bad.write_text("[server]\nhostname = x\nworker_threads = lots\n")
    for args in (["-c", str(bad), "serve"], ["check-config", str(bad)]):
        r = subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=30,
                           cwd=tmp_path)
        assert r.returncode == 1, args
        assert f"{bad}:3: worker_threads: 'lots' is not an integer" in r.stderr
    assert not (tmp_path / "var").exists()
    bad.write_text("[server]\nno_such_setting = 1\n")
    r = subprocess.run([BINARY, "check-config", str(bad)], capture_output=True, text=True)
    assert r.returncode == 1 and f"{bad}:2: unknown setting 'no_such_setting'" in r.stderr
    good = tmp_path / "good.ini"
    good.write_text("[server]\nhostname = mail.example.org\n")
    r = subprocess.run([BINARY, "check-config", str(good)], capture_output=True, text=True)
    assert r.returncode == 0 and "ok" in r.stdout


def test_usage_errors_exit_2():
    for args in (["serve", "extra"], ["no-such-command"], ["--bogus"], []):
        r = subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=30)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert r.stderr
    r = subprocess.run([BINARY, "version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("hermod ")
