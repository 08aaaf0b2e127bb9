"""Checks EWS response bodies against Microsoft's published schemas
(../shared/ms-interop/ews-xsd/all-messages.xsd, see its README): the one
element inside the SOAP Body must validate. SOAP faults are not in those
schemas; they are checked for the shape Exchange gives them (faultcode,
faultstring, detail with an errors-namespace ResponseCode).

The server writes every response body into [ews] dump_dir (conftest.py sets
it for every test server); check_dump_dir runs when the server stops, so
every response a test received - from raw SOAP or from exchangelib - is
validated."""
import glob
import os

from lxml import etree

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
ERRORS = "http://schemas.microsoft.com/exchange/services/2006/errors"
TYPES = "http://schemas.microsoft.com/exchange/services/2006/types"


def xsd_path():
    """The bundle: $HERMOD_EWS_XSD, else ../shared beside the main
    checkout (worktrees live in ../wt/<name>), else /work/shared."""
    cands = [os.environ.get("HERMOD_EWS_XSD", "")]
    for up in ("..", "../..", "../../.."):
        cands.append(os.path.join(ROOT, up, "shared/ms-interop/ews-xsd/all-messages.xsd"))
    cands.append("/work/shared/ms-interop/ews-xsd/all-messages.xsd")
    for c in cands:
        if c and os.path.exists(c):
            return os.path.abspath(c)
    raise AssertionError("the EWS schemas (ms-interop/ews-xsd/all-messages.xsd) are missing; "
                         "set HERMOD_EWS_XSD")


_schema = []


def schema():
    if not _schema:
        _schema.append(etree.XMLSchema(etree.parse(xsd_path())))
    return _schema[0]


def check_body(data):
    """Returns None if the response document (bytes) is valid, else why."""
    try:
        root = etree.fromstring(data)
    except etree.XMLSyntaxError as e:
        return f"not well-formed: {e}"
    if root.tag != f"{{{SOAP}}}Envelope":
        return "not a SOAP envelope"
    hdr = root.find(f"{{{SOAP}}}Header")
    if hdr is None or hdr.find(f"{{{TYPES}}}ServerVersionInfo") is None:
        return "no ServerVersionInfo header"
    body = root.find(f"{{{SOAP}}}Body")
    if body is None or len(body) != 1:
        return "the Body must hold one element"
    child = body[0]
    if child.tag == f"{{{SOAP}}}Fault":
        if child.findtext("faultcode") is None or child.findtext("faultstring") is None:
            return "fault without faultcode/faultstring"
        if child.find(f"detail/{{{ERRORS}}}ResponseCode") is None:
            return "fault without detail/ResponseCode"
        return None
    s = schema()
    if s.validate(etree.ElementTree(child)):
        return None
    return "; ".join(f"line {e.line}: {e.message[:300]}" for e in list(s.error_log)[:5])


def check_dump_dir(path):
    """Validates every dumped response; returns a list of problems."""
    problems = []
    for f in sorted(glob.glob(os.path.join(path, "*.xml"))):
        with open(f, "rb") as fh:
            why = check_body(fh.read())
        if why:
            problems.append(f"{os.path.basename(f)}: {why}")
    return problems
