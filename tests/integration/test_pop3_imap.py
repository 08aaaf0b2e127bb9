"""A POP3 deletion is a deletion in the store: IMAP sees it. Runs once the
IMAP service is in `hermod serve` (its listener then has a port here)."""
import imaplib

import pytest

from test_pop3 import MSG1, MSG2, MSG3, PASSWORD, USER, fill, login


def test_pop3_deletion_seen_by_imap(hermod):
    if ("imap", "listen") not in hermod.ports:
        pytest.skip("no IMAP service in this build yet")
    hermod.add_user(USER, PASSWORD)
    fill(hermod, USER, MSG1, MSG2, MSG3)
    imap = imaplib.IMAP4("127.0.0.1", hermod.port("imap"))
    imap.login(USER, PASSWORD)
    typ, data = imap.select("INBOX")
    assert typ == "OK" and int(data[0]) == 3
    imap.logout()

    p = login(hermod)
    p.dele(1)
    p.dele(3)
    p.quit()

    imap = imaplib.IMAP4("127.0.0.1", hermod.port("imap"))
    imap.login(USER, PASSWORD)
    typ, data = imap.select("INBOX")
    assert typ == "OK" and int(data[0]) == 1
    typ, data = imap.fetch("1", "(BODY.PEEK[])")
    assert typ == "OK" and data[0][1] == MSG2
    imap.logout()
