"""MIME <-> MAPI conversion through the real binary.

- The corpus (tests/data/mime, written by gen_corpus.py): `hermod convert
  mime2mapi` prints what each NAME.expect says.
- Peer check: the MIME `hermod convert mapi2mime` writes parses with
  Python's email package (an independent parser) to the same headers,
  bodies and attachments as the message object holds.
- TNEF peer check: winmail.dat written by `mapi2mime --tnef` unpacks with
  Debian's `tnef` tool to the same attachments.
"""
import datetime
import email
import email.errors
import email.parser
import email.policy
import hashlib
import os
import re
import shutil
import subprocess
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("HERMOD_BUILD", os.path.join(ROOT, "build"))
HERMOD = os.path.join(BUILD, "src", "cmd", "hermod")
CORPUS = os.path.join(ROOT, "tests", "data", "mime")
NAMES = sorted(n[:-4] for n in os.listdir(CORPUS) if n.endswith(".eml"))


# Where a message has no Date, both directions use this time.
NOW = "2026-06-01T12:00:00Z"


def run(verb, *args, stdin=None):
    r = subprocess.run([HERMOD, "convert", verb, "--now", NOW] + list(args), input=stdin,
                       capture_output=True,
                       timeout=120)
    assert r.returncode == 0, (verb, args, r.returncode, r.stderr.decode(errors="replace"))
    return r.stdout


def dump(path_or_dash, stdin=None):
    """The mime2mapi dump as {key: value} (first occurrence wins)."""
    out = run("mime2mapi", "--digest", path_or_dash, stdin=stdin).decode("utf-8")
    d = {}
    for line in out.splitlines():
        k, sep, v = line.partition(" = ")
        if sep and k not in d:
            d[k] = v
    return d


def test_corpus_size():
    assert len(NAMES) >= 100


@pytest.mark.parametrize("name", NAMES)
def test_corpus_expectations(name):
    d = dump(os.path.join(CORPUS, name + ".eml"))
    with open(os.path.join(CORPUS, name + ".expect"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            if line.startswith("!"):
                assert line[1:] not in d, f"{name}: {line[1:]} should be absent, is {d.get(line[1:])}"
            elif line.startswith("?"):
                assert line[1:] in d, f"{name}: {line[1:]} missing"
            else:
                k, _, v = line.partition(" = ")
                assert d.get(k) == v, f"{name}: {k}: got {d.get(k)!r}, want {v!r}"


def unquote(v):
    """A dumped string value back to text."""
    assert v.startswith('"') and v.endswith('"'), v
    s, out, i = v[1:-1], [], 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            n = s[i + 1]
            if n == "x":
                out.append(chr(int(s[i + 2:i + 4], 16)))
                i += 4
                continue
            out.append({"n": "\n", "r": "\r", "t": "\t"}.get(n, n))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def norm_text(s):
    return s.replace("\r\n", "\n").rstrip("\n")


def attachments(d, prefix=""):
    """[(index, props)] of the dump's top-level attachments."""
    res = {}
    for k, v in d.items():
        m = re.match(re.escape(prefix) + r"attachment\[(\d+)\]\.([A-Z_0-9]+)$", k)
        if m:
            res.setdefault(int(m.group(1)), {})[m.group(2)] = v
    return [res[i] for i in sorted(res)]


def walk_leaves(msg):
    """Body text, HTML and attachment parts as Python's email sees them."""
    text = html = None
    atts = []

    def leaves(p):
        # Not into attached messages: they are one attachment each.
        if p.get_content_type() != "message/rfc822" and p.is_multipart():
            for c in p.iter_parts():
                yield from leaves(c)
        else:
            yield p

    for part in leaves(msg):
        ctype = part.get_content_type()
        disp = part.get_content_disposition()
        if ctype == "message/rfc822":
            atts.append(part)
            continue
        if disp is None and ctype == "text/plain" and text is None:
            text = part.get_content()
        elif disp is None and ctype == "text/html" and html is None:
            html = part.get_content()
        else:
            atts.append(part)
    return text, html, atts


@pytest.mark.parametrize("name", NAMES)
def test_peer_python_email(name):
    src = os.path.join(CORPUS, name + ".eml")
    d = dump(src)
    mime = run("mapi2mime", src)
    for line in mime.split(b"\r\n"):
        assert len(line) <= 998, f"{name}: line of {len(line)} octets"
    msg = email.parser.BytesParser(policy=email.policy.default).parsebytes(mime)
    assert not [dfct for dfct in msg.defects
                if not isinstance(dfct, email.errors.InvalidHeaderDefect)], msg.defects
    # Headers.
    if "PR_SUBJECT" in d:
        assert str(msg["Subject"]) == unquote(d["PR_SUBJECT"])
    if "PR_SENT_REPRESENTING_SMTP_ADDRESS" in d:
        assert msg["From"].addresses[0].addr_spec == unquote(d["PR_SENT_REPRESENTING_SMTP_ADDRESS"])
    if "PR_INTERNET_MESSAGE_ID" in d:
        assert msg["Message-ID"].strip() == unquote(d["PR_INTERNET_MESSAGE_ID"])
    else:
        assert msg["Message-ID"]
    when = msg["Date"].datetime.astimezone(datetime.timezone.utc)
    assert when.strftime("%Y-%m-%dT%H:%M:%S.000Z") == d["PR_CLIENT_SUBMIT_TIME"]
    for header, prop in (("In-Reply-To", "PR_IN_REPLY_TO_ID"),
                         ("References", "PR_INTERNET_REFERENCES"),
                         ("Thread-Topic", "PR_CONVERSATION_TOPIC")):
        if prop in d:
            assert " ".join(str(msg[header]).split()) == " ".join(unquote(d[prop]).split())
    if "PR_IMPORTANCE" in d:
        assert str(msg["Importance"]).lower() == ["low", "normal", "high"][int(d["PR_IMPORTANCE"])]
    to = [unquote(d[f"recipient[{i}].PR_SMTP_ADDRESS"]) for i in range(100)
          if d.get(f"recipient[{i}].PR_RECIPIENT_TYPE") == "1"]
    cc = [unquote(d[f"recipient[{i}].PR_SMTP_ADDRESS"]) for i in range(100)
          if d.get(f"recipient[{i}].PR_RECIPIENT_TYPE") == "2"]
    assert [a.addr_spec for a in msg["To"].addresses] if msg["To"] else [] == to
    assert ([a.addr_spec for a in msg["Cc"].addresses] if msg["Cc"] else []) == cc
    assert msg["Bcc"] is None
    if d.get("PR_MESSAGE_CLASS", "").startswith('"IPM.Note.SMIME'):
        return
    # Bodies.
    text, html, atts = walk_leaves(msg)
    if "PR_BODY" in d:
        assert norm_text(text) == norm_text(unquote(d["PR_BODY"]))
    # Attachments: names, types and bytes.
    mine = attachments(d)
    assert len(atts) == len(mine), f"{name}: {len(atts)} parts for {len(mine)} attachments"
    for part, a in zip(atts, mine):
        if a.get("PR_ATTACH_METHOD") == "5":
            assert part.get_content_type() == "message/rfc822"
            inner = part.get_content()
            sub = {k[len("embedded."):]: v for k, v in
                   ((k.split(".", 1)[1], v) for k, v in d.items()
                    if k.startswith(f"attachment[{mine.index(a)}].embedded."))}
            if "PR_SUBJECT" in sub:
                assert str(inner["Subject"]) == unquote(sub["PR_SUBJECT"])
            continue
        if "PR_ATTACH_LONG_FILENAME" in a:
            assert part.get_filename() == unquote(a["PR_ATTACH_LONG_FILENAME"])
        assert part.get_content_type() == unquote(a["PR_ATTACH_MIME_TAG"]).lower()
        data = part.get_payload(decode=True)
        assert "<%d bytes sha256 %s>" % (len(data), hashlib.sha256(data).hexdigest()) == \
            a["PR_ATTACH_DATA_BIN"]


# Properties a MIME -> MAPI -> MIME -> MAPI round trip need not keep:
# the transport's own record of the first trip.
ROUND_TRIP_EXEMPT = {"PR_TRANSPORT_MESSAGE_HEADERS", "PR_MESSAGE_DELIVERY_TIME"}


def mapped(d):
    # Bcc recipients live in the envelope only (MS-OXCMAIL, Bcc): they
    # are the last recipients and do not come back.
    bcc = {k.split(".")[0] for k, v in d.items()
           if re.match(r"recipient\[\d+\]\.PR_RECIPIENT_TYPE$", k) and v == "3"}
    return {k: v for k, v in d.items() if k.split(".")[-1] not in ROUND_TRIP_EXEMPT
            and k.split(".")[0] not in bcc and k != "PR_DISPLAY_BCC"}


@pytest.mark.parametrize("name", NAMES)
def test_round_trip(name):
    src = os.path.join(CORPUS, name + ".eml")
    first = dump(src)
    # A message that came with winmail.dat has MAPI-only properties: they
    # go back out as TNEF (MS-OXCMAIL: to an Exchange-compatible peer).
    tnef = ["--tnef"] if name.startswith("tnef-winmail") else []
    second = dump("-", stdin=run("mapi2mime", *tnef, src))
    a, b = mapped(first), mapped(second)
    missing = {k: v for k, v in a.items() if b.get(k) != v}
    assert not missing, f"{name}: changed in the round trip: " + \
        "; ".join(f"{k}: {v} -> {b.get(k)}" for k, v in list(missing.items())[:8])


def test_cli_errors(tmp_path):
    r = subprocess.run([HERMOD, "convert", "mime2mapi", str(tmp_path / "nope.eml")],
                       capture_output=True)
    assert r.returncode == 1 and b"cannot open" in r.stderr
    r = subprocess.run([HERMOD, "convert", "nosuch"], capture_output=True)
    assert r.returncode == 2
    r = subprocess.run([HERMOD, "convert", "mime2mapi"], capture_output=True)
    assert r.returncode == 2


def test_cli_any_bytes(tmp_path):
    # Whatever a user hands it, the CLI prints a message object.
    for i, data in enumerate([b"", b"\n", b"garbage without headers",
                              bytes(range(256)) * 10, b"Subject: x\n\n" + b"\xff" * 100]):
        p = tmp_path / f"x{i}.eml"
        p.write_bytes(data)
        r = subprocess.run([HERMOD, "convert", "mime2mapi", str(p)], capture_output=True)
        assert r.returncode == 0, r
        r = subprocess.run([HERMOD, "convert", "mapi2mime", str(p)], capture_output=True)
        assert r.returncode == 0, r
        email.parser.BytesParser(policy=email.policy.default).parsebytes(r.stdout)


TNEF_CASES = ["body-alt-related-mixed", "attach-many", "name-rfc2231", "name-rfc2047",
              "attach-uuencode", "body-plain-then-text-attachment", "forward-rfc822"]


@pytest.mark.skipif(shutil.which("tnef") is None, reason="Debian's tnef is not installed")
@pytest.mark.parametrize("name", [n for n in TNEF_CASES if not n.startswith("forward")])
def test_peer_tnef_tool(name, tmp_path):
    src = os.path.join(CORPUS, name + ".eml")
    d = dump(src)
    mime = run("mapi2mime", "--tnef", src)
    msg = email.parser.BytesParser(policy=email.policy.default).parsebytes(mime)
    parts = [p for p in msg.walk() if p.get_content_type() == "application/ms-tnef"]
    assert len(parts) == 1
    assert parts[0].get_filename() == "winmail.dat"
    dat = tmp_path / "winmail.dat"
    dat.write_bytes(parts[0].get_payload(decode=True))
    out = tmp_path / "out"
    out.mkdir()
    r = subprocess.run(["tnef", "--overwrite", "-C", str(out), str(dat)], capture_output=True)
    assert r.returncode == 0, r.stderr
    files = {p.name: p.read_bytes() for p in out.iterdir()}
    want = [a for a in attachments(d) if a.get("PR_ATTACH_METHOD") == "1"
            and "PR_ATTACH_LONG_FILENAME" in a]
    assert want
    for a in want:
        fn = unquote(a["PR_ATTACH_LONG_FILENAME"])
        assert fn in files, f"{name}: {fn} not extracted ({sorted(files)})"
        data = files[fn]
        assert "<%d bytes sha256 %s>" % (len(data), hashlib.sha256(data).hexdigest()) == \
            a["PR_ATTACH_DATA_BIN"]


@pytest.mark.parametrize("name", TNEF_CASES)
def test_tnef_round_trip(name):
    """MIME -> MAPI -> MIME with winmail.dat -> MAPI keeps the attachments
    and properties: the reader merges the TNEF back."""
    src = os.path.join(CORPUS, name + ".eml")
    first = dump(src)
    second = dump("-", stdin=run("mapi2mime", "--tnef", src))
    for i, a in enumerate(attachments(first)):
        b = attachments(second)[i]
        for k in ("PR_ATTACH_LONG_FILENAME", "PR_ATTACH_DATA_BIN", "PR_ATTACH_METHOD",
                  "PR_ATTACH_MIME_TAG", "PR_ATTACH_CONTENT_ID"):
            assert a.get(k) == b.get(k), f"{name}: attachment[{i}].{k}"
    for k in ("PR_SUBJECT", "PR_IMPORTANCE", "PR_SENT_REPRESENTING_SMTP_ADDRESS",
              "PR_INTERNET_MESSAGE_ID"):
        assert first.get(k) == second.get(k), k
    assert len(attachments(first)) == len(attachments(second))
