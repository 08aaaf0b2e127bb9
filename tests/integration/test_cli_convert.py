"""hermod convert: the TNEF and compressed-RTF tools of the real binary,
checked against the test data, against Debian's tnef, and on bad input."""
import os
import shutil
import subprocess

import pytest

BUILD = os.environ.get("HERMOD_BUILD", "./build")
HERMOD = os.path.join(BUILD, "src", "cmd", "hermod")
DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")


def run(*args, stdin=None):
    return subprocess.run([HERMOD, "convert"] + list(args), input=stdin, capture_output=True,
                          timeout=60)


def ok(*args, stdin=None):
    r = run(*args, stdin=stdin)
    assert r.returncode == 0, f"{args}: {r.returncode} {r.stderr!r}"
    return r


def data(*parts):
    return os.path.join(DATA, *parts)


def test_tnef_listing():
    out = ok("tnef", data("tnef", "sample.tnef")).stdout.decode()
    assert out.startswith("TNEF key 0x0001, version 0x00010000, OEM code page 1252\n")
    assert "attachments: 3" in out
    assert "[1] hello.txt (17 bytes)" in out
    assert "[2] data file.bin (3000 bytes)" in out
    assert 'PR_SUBJECT = "Gr\u00fc\u00dfe \U0001F600"' in out
    # A named property in a well-known set is shown by its canonical name.
    assert "PidLid" in out
    assert "recipients: 2" in out and 'PR_EMAIL_ADDRESS = "alice@example.org"' in out


def test_tnef_legacy_listing():
    out = ok("tnef", data("tnef", "legacy.tnef")).stdout.decode()
    assert "OEM code page 1251" in out
    assert 'PR_MESSAGE_CLASS = "IPM.Note"' in out
    assert "ignored attributes: 1" in out
    assert "[1] A.TXT (3 bytes)" in out


def test_tnef_extract_matches_debian_tnef(tmp_path):
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ok("tnef", data("tnef", "sample.tnef"), "--extract", str(ours))
    theirs.mkdir()
    subprocess.run(["tnef", "-f", data("tnef", "sample.tnef"), "-C", str(theirs)], check=True)
    for name in ("hello.txt", "data file.bin"):
        assert (ours / name).read_bytes() == (theirs / name).read_bytes()
    # The embedded message is written as a TNEF stream that decodes again.
    embedded = ours / "Forwarded message.tnef"
    out = ok("tnef", str(embedded)).stdout.decode()
    assert "[1] hello.txt (17 bytes)" in out
    # A second extraction does not overwrite.
    ok("tnef", data("tnef", "sample.tnef"), "--extract", str(ours))
    assert (ours / "hello.txt-1").read_bytes() == (ours / "hello.txt").read_bytes()


def test_tnef_extract_hostile_names(tmp_path):
    """Attachment names cannot escape the extraction directory."""
    blob = bytearray(open(data("tnef", "legacy.tnef"), "rb").read())
    i = blob.index(b"A.TXT\0")
    # Same length, so the attribute stays well-formed (checksum aside).
    blob[i:i + 6] = b"../x\0\0"
    src = tmp_path / "evil.tnef"
    src.write_bytes(bytes(blob))
    r = ok("tnef", str(src), "--extract", str(tmp_path / "out"))
    assert b"bad checksum" in r.stderr
    assert (tmp_path / "out" / "x").exists()
    assert not (tmp_path / "x").exists()


def test_tnef_errors(tmp_path):
    bad = tmp_path / "bad.dat"
    bad.write_bytes(b"not a tnef stream")
    r = run("tnef", str(bad))
    assert r.returncode == 1 and r.stderr.startswith(b"hermod: ")
    assert b"TNEF: bad signature" in r.stderr
    truncated = tmp_path / "trunc.dat"
    truncated.write_bytes(open(data("tnef", "sample.tnef"), "rb").read()[:1000])
    r = run("tnef", str(truncated))
    assert r.returncode == 1 and b"TNEF: " in r.stderr
    r = run("tnef", str(tmp_path / "missing"))
    assert r.returncode == 1 and b"No such file" in r.stderr
    assert run("tnef").returncode == 2
    assert run("nosuch", "x").returncode == 2
    assert run().returncode == 2


def test_rtf_spec_example():
    out = ok("rtf", data("rtf", "spec-example1.bin")).stdout
    assert out == open(data("rtf", "spec-example1.rtf"), "rb").read()
    # --compress reproduces the specification's bytes.
    assert ok("rtf", data("rtf", "spec-example1.rtf"), "--compress").stdout == \
        open(data("rtf", "spec-example1.bin"), "rb").read()


def test_rtf_html_and_text(tmp_path):
    blob = ok("rtf", data("rtf", "outlook-html.rtf"), "--compress").stdout
    comp = tmp_path / "body.bin"
    comp.write_bytes(blob)
    assert ok("rtf", str(comp)).stdout == open(data("rtf", "outlook-html.rtf"), "rb").read()
    assert ok("rtf", str(comp), "--html").stdout == \
        open(data("rtf", "outlook-html.html"), "rb").read()
    text = ok("rtf", str(comp), "--text").stdout.decode()
    assert text.startswith("Caf\u00e9 \u20ac and \u0414\u0430 ok")
    # Plain RTF is accepted too, and stdin works.
    assert ok("rtf", "-", "--text", stdin=open(data("rtf", "native.rtf"), "rb").read()).stdout \
        == open(data("rtf", "native.txt"), "rb").read()
    r = run("rtf", data("rtf", "native.rtf"), "--html")
    assert r.returncode == 1 and b"does not encapsulate HTML" in r.stderr


def test_rtf_crc(tmp_path):
    blob = bytearray(open(data("rtf", "spec-example1.bin"), "rb").read())
    blob[21] ^= 1
    bad = tmp_path / "bad.bin"
    bad.write_bytes(bytes(blob))
    r = run("rtf", str(bad))
    assert r.returncode == 1 and b"CRC mismatch" in r.stderr
    assert len(ok("rtf", str(bad), "--ignore-crc").stdout) == 43
    assert run("rtf", str(bad), "--html", "--text").returncode == 2
