"""SORT (RFC 5256, with RFC 5957 DISPLAYFROM/DISPLAYTO) and THREAD
(ORDEREDSUBJECT, REFERENCES) with Python's imaplib: every sort key, REVERSE,
several criteria, ties, UID SORT, search keys, charsets, and bad input."""
import imaplib

import pytest

from imap_util import connect, imap_server  # noqa: F401


def msg(subject, frm, to, date, msgid, cc=None, refs=None, irt=None, body="x\r\n"):
    h = [f"From: {frm}", f"To: {to}"]
    if cc:
        h.append(f"Cc: {cc}")
    h += [f"Subject: {subject}", f"Date: {date}", f"Message-ID: <{msgid}>"]
    if refs:
        h.append("References: " + " ".join(f"<{r}>" for r in refs))
    if irt:
        h.append(f"In-Reply-To: <{irt}>")
    return ("\r\n".join(h) + "\r\n\r\n" + body).encode()


def append_all(m, box, msgs):
    m.create(box)
    for i, (raw, internal) in enumerate(msgs):
        typ, _ = m.append(box, None, internal, raw)
        assert typ == "OK"
    typ, data = m.select(box)
    assert int(data[0]) == len(msgs)


def sort(m, crit, *keys, uid=False):
    if uid:
        typ, data = m.uid("SORT", crit, "UTF-8", *keys)
    else:
        typ, data = m.sort(crit, "UTF-8", *keys)
    assert typ == "OK", data
    return [int(x) for x in (data[0] or b"").split()]


# Five messages; seq 1..5. Internal dates go up with seq except 4 (oldest).
SORT_MSGS = [
    (msg("Re: banana", '"Zed Zulu" <zed@b.example>', "carol@x.example",
         "Tue, 2 Jan 2024 10:00:00 +0000", "m1@x", cc="Bob <bob@x.example>",
         body="a" * 300 + "\r\n"),
     '"01-Mar-2024 10:00:00 +0000"'),
    (msg("apple", "adam@a.example", '"Yvonne" <yv@z.example>',
         "Mon, 1 Jan 2024 23:30:00 -0500", "m2@x", body="b" * 10 + "\r\n"),
     '"02-Mar-2024 10:00:00 +0000"'),
    (msg("[list] Fwd: Cherry (fwd)", "=?utf-8?q?=C3=89mile?= <emile@c.example>",
         "alice@y.example", "Wed, 3 Jan 2024 08:00:00 +0000", "m3@x",
         cc="aaron@x.example", body="c" * 100 + "\r\n"),
     '"03-Mar-2024 10:00:00 +0000"'),
    (msg("BANANA", "Bea <bea@b.example>", "Xavier <xav@y.example>",
         "Tue, 2 Jan 2024 10:00:00 +0000", "m4@x", body="d" * 1000 + "\r\n"),
     '"28-Feb-2024 10:00:00 +0000"'),
    (msg("re: re: Apple", "adam@a.example", "bob@q.example",
         "Thu, 4 Jan 2024 00:00:00 +0100", "m5@x", body="e" * 50 + "\r\n"),
     '"04-Mar-2024 10:00:00 +0000"'),
]


@pytest.fixture
def sorted_box(imap_server):
    m = connect(imap_server)
    append_all(m, "Sorting", SORT_MSGS)
    yield m
    m.logout()


def test_capabilities(imap_server):
    m = connect(imap_server)
    caps = m.capability()[1][0].decode().split()
    for c in ("SORT", "SORT=DISPLAY", "THREAD=REFERENCES", "THREAD=ORDEREDSUBJECT"):
        assert c in caps
    m.logout()


def test_sort_each_key(sorted_box):
    m = sorted_box
    assert sort(m, "(ARRIVAL)", "ALL") == [4, 1, 2, 3, 5]
    # Date in UTC: 2 is Jan 2 04:30 UTC; 1 and 4 tie at Jan 2 10:00 (seq
    # order); 5 is Jan 3 23:00 UTC.
    assert sort(m, "(DATE)", "ALL") == [2, 1, 4, 3, 5]
    assert sort(m, "(SIZE)", "ALL") == [2, 5, 3, 1, 4]
    # Base subjects: banana, apple, cherry, BANANA, Apple.
    assert sort(m, "(SUBJECT)", "ALL") == [2, 5, 1, 4, 3]
    # addr-mailbox of the first From: zed adam emile bea adam
    assert sort(m, "(FROM)", "ALL") == [2, 5, 4, 3, 1]
    # To: carol yv alice xav bob
    assert sort(m, "(TO)", "ALL") == [3, 5, 1, 4, 2]
    # Cc: bob "" aaron "" "" -- missing sorts first
    assert sort(m, "(CC)", "ALL") == [2, 4, 5, 3, 1]
    # Display names: "Zed Zulu", adam@a.example, Émile (decoded), Bea,
    # adam@a.example. ASCII casemap puts the UTF-8 É after every ASCII letter.
    assert sort(m, "(DISPLAYFROM)", "ALL") == [2, 5, 4, 1, 3]
    # To display: carol@x.example Yvonne alice@y.example Xavier bob@q.example
    assert sort(m, "(DISPLAYTO)", "ALL") == [3, 5, 1, 4, 2]


def test_sort_reverse_and_several_criteria(sorted_box):
    m = sorted_box
    assert sort(m, "(REVERSE ARRIVAL)", "ALL") == [5, 3, 2, 1, 4]
    # Ties stay in mailbox order even under REVERSE.
    assert sort(m, "(REVERSE DATE)", "ALL") == [5, 3, 1, 4, 2]
    assert sort(m, "(SUBJECT REVERSE SIZE)", "ALL") == [5, 2, 4, 1, 3]
    assert sort(m, "(REVERSE SUBJECT DATE)", "ALL") == [3, 1, 4, 2, 5]
    assert sort(m, "(FROM DATE)", "ALL") == [2, 5, 4, 3, 1]


def test_sort_with_search_and_uid(sorted_box):
    m = sorted_box
    assert sort(m, "(SIZE)", "LARGER", "400") == [1, 4]
    assert sort(m, "(SIZE)", "2:4") == [2, 3, 4]
    assert sort(m, "(DATE)", "NOT", "FROM", "adam") == [1, 4, 3]
    m.store("1", "+FLAGS", "\\Seen")
    assert sort(m, "(SUBJECT)", "UNSEEN") == [2, 5, 4, 3]
    typ, data = m.uid("SEARCH", "ALL")
    uids = [int(x) for x in data[0].split()]
    assert sort(m, "(ARRIVAL)", "ALL", uid=True) == [uids[3], uids[0], uids[1], uids[2], uids[4]]
    assert sort(m, "(ARRIVAL)", "SUBJECT", "nothing-matches") == []
    # US-ASCII is as good as UTF-8.
    typ, data = m.sort("(ARRIVAL)", "US-ASCII", "ALL")
    assert typ == "OK" and data[0] == b"4 1 2 3 5"


def test_sort_bad_input(sorted_box):
    m = sorted_box
    for args in [("ARRIVAL", "UTF-8", "ALL"), ("()", "UTF-8", "ALL"),
                 ("(NOSUCHKEY)", "UTF-8", "ALL"), ("(REVERSE)", "UTF-8", "ALL"),
                 ("(REVERSE REVERSE DATE)", "UTF-8", "ALL"), ("(DATE)", "UTF-8"), ("(DATE)",),
                 ("(DATE)", "UTF-8", "NOSUCHKEY"), ("((DATE))", "UTF-8", "ALL"),
                 ("(" + " ".join(["DATE"] * 17) + ")", "UTF-8", "ALL")]:
        with pytest.raises(imaplib.IMAP4.error, match="BAD|SORT"):
            m._simple_command("SORT", *args)
    # Sixteen criteria are fine.
    assert sort(m, "(" + " ".join(["DATE"] * 16) + ")", "ALL") == [2, 1, 4, 3, 5]
    m.unselect()
    with pytest.raises(imaplib.IMAP4.error):
        m.sort("(DATE)", "UTF-8", "ALL")  # no mailbox selected


def test_thread_orderedsubject(sorted_box):
    m = sorted_box
    typ, data = m.thread("ORDEREDSUBJECT", "UTF-8", "ALL")
    assert typ == "OK"
    # apple: 2 (Jan 2 04:30 UTC) then 5; banana: 1 then 4 (same date,
    # seq order); cherry: 3. Threads by the date of their first message.
    assert data[0] == b"(2 5)(1 4)(3)"
    typ, data = m.uid("THREAD", "ORDEREDSUBJECT", "UTF-8", "2:5")
    typ2, udata = m.uid("SEARCH", "ALL")
    u = udata[0].split()
    assert data[0] == b"(%s %s)(%s)(%s)" % (u[1], u[4], u[3], u[2])
    typ, data = m.thread("ORDEREDSUBJECT", "UTF-8", "SUBJECT", "nothing-matches")
    assert typ == "OK" and not data[0]


# RFC 5256's tree: references build the chain; a dummy parent appears
# for a missing message; subjects gather what references cannot.
THREAD_MSGS = [
    # seq 1: a root
    msg("Party", "a@x", "b@x", "Mon, 1 Jan 2024 10:00:00 +0000", "p1@x"),
    # seq 2: reply to 1
    msg("Re: Party", "b@x", "a@x", "Mon, 1 Jan 2024 11:00:00 +0000", "p2@x", refs=["p1@x"]),
    # seq 3: reply to 2 via In-Reply-To only
    msg("Re: Party", "c@x", "a@x", "Mon, 1 Jan 2024 12:00:00 +0000", "p3@x", irt="p2@x"),
    # seq 4: a second reply to 1 (sibling of 2)
    msg("Re: Party", "d@x", "a@x", "Mon, 1 Jan 2024 11:30:00 +0000", "p4@x", refs=["p1@x"]),
    # seq 5: unrelated
    msg("Lunch", "e@x", "a@x", "Sun, 31 Dec 2023 10:00:00 +0000", "l1@x"),
    # seq 6 and 7: replies to a message we do not have: a dummy parent
    msg("Re: Missing", "f@x", "a@x", "Tue, 2 Jan 2024 10:00:00 +0000", "q2@x", refs=["q1@x"]),
    msg("Re: Missing", "g@x", "a@x", "Tue, 2 Jan 2024 09:00:00 +0000", "q3@x", refs=["q1@x"]),
    # seq 8: no references, same base subject as 5 and a reply: gathered
    # under 5 by subject
    msg("Re: Lunch", "h@x", "a@x", "Wed, 3 Jan 2024 10:00:00 +0000", "l2@x"),
    # seq 9: a duplicate Message-ID of 1: treated as a distinct root
    msg("Other", "i@x", "a@x", "Thu, 4 Jan 2024 10:00:00 +0000", "p1@x"),
    # seq 10: the full chain; the existing links are kept
    msg("Re: Party", "j@x", "a@x", "Fri, 5 Jan 2024 10:00:00 +0000", "p10@x",
        refs=["p1@x", "p2@x", "p3@x"]),
    # seq 11: references in a looping order: p3 is not made p1's parent
    msg("Re: Party", "k@x", "a@x", "Sat, 6 Jan 2024 10:00:00 +0000", "p11@x",
        refs=["p3@x", "p1@x"]),
    # seq 12: references only itself: a root
    msg("Solo", "l@x", "a@x", "Sun, 7 Jan 2024 10:00:00 +0000", "s1@x", refs=["s1@x"]),
]


def test_thread_references(imap_server):
    m = connect(imap_server)
    append_all(m, "Threads", [(r, None) for r in THREAD_MSGS])
    typ, data = m.thread("REFERENCES", "UTF-8", "ALL")
    assert typ == "OK"
    # Roots by date: Lunch (5, Dec 31), Party (1, Jan 1), the dummy
    # for q1 (first child 7, Jan 2 09:00), Other (9), Solo (12).
    assert data[0] == b"(5 8)(1 (2 3 10)(4)(11))((7)(6))(9)(12)"
    # Only some messages: 1 absent, so 2 and 4 hang under a dummy p1
    # whose two children stay nested at the top.
    typ, data = m.thread("REFERENCES", "UTF-8", "2:4")
    assert data[0] == b"((2 3)(4))"
    # UID THREAD shows UIDs in the same shape.
    typ, udata = m.uid("SEARCH", "ALL")
    u = [x.decode() for x in udata[0].split()]
    typ, data = m.uid("THREAD", "REFERENCES", "UTF-8", "1:5")
    assert data[0] == f"({u[4]})({u[0]} ({u[1]} {u[2]})({u[3]}))".encode()
    # Bad input.
    for args in [("NOSUCH", "UTF-8", "ALL"), ("REFERENCES", "UTF-8"), ("REFERENCES",),
                 ("(REFERENCES)", "UTF-8", "ALL"), ()]:
        with pytest.raises(imaplib.IMAP4.error):
            m._simple_command("THREAD", *args)
    m.logout()
