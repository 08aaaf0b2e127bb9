#!/usr/bin/python3
"""Writes the MIME corpus of tests/data/mime: NAME.eml and NAME.expect.

Every message is written here by hand for hermod (no message is taken from
elsewhere). Each .expect file states what `hermod convert mime2mapi
--digest NAME.eml` must print, derived from how the message was built and
from MS-OXCMAIL, never from hermod's own output:

    KEY = VALUE   this exact line must be printed
    !KEY          no line for KEY may be printed
    ?KEY          some line for KEY must be printed (value not checked)
    # ...         comment

Run it again after changing a case: python3 tests/data/mime/gen_corpus.py
The generated files are committed; tests only read them.
"""
import base64
import hashlib
import os
import quopri

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = []


def case(name):
    def deco(fn):
        CASES.append((name, fn))
        return fn
    return deco


def q(s):
    """A string value as convert_message_dump prints it."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == '\\':
            out.append('\\\\')
        elif ch == '\n':
            out.append('\\n')
        elif ch == '\r':
            out.append('\\r')
        elif ch == '\t':
            out.append('\\t')
        elif o < 0x20 or o == 0x7f:
            out.append('\\x%02x' % o)
        else:
            out.append(ch)
    out.append('"')
    return ''.join(out)


def digest(data):
    return '<%d bytes sha256 %s>' % (len(data), hashlib.sha256(data).hexdigest())


def b64(data):
    s = base64.b64encode(data).decode()
    return '\n'.join(s[i:i + 76] for i in range(0, len(s), 76))


def subject_lines(subject, prefix=''):
    return ['PR_SUBJECT = ' + q(subject), 'PR_SUBJECT_PREFIX = ' + q(prefix),
            'PR_NORMALIZED_SUBJECT = ' + q(subject[len(prefix):])]


HDR = ('From: Alice Example <alice@example.com>\n'
       'To: Bob Example <bob@example.org>\n'
       'Date: Mon, 02 Mar 2026 10:15:30 +0000\n'
       'Message-ID: <{name}@corpus.hermod.test>\n'
       'MIME-Version: 1.0\n')
COMMON = ['PR_MESSAGE_CLASS = "IPM.Note"',
          'PR_CLIENT_SUBMIT_TIME = 2026-03-02T10:15:30.000Z',
          'PR_SENT_REPRESENTING_NAME = "Alice Example"',
          'PR_SENT_REPRESENTING_SMTP_ADDRESS = "alice@example.com"',
          'PR_SENDER_SMTP_ADDRESS = "alice@example.com"',
          'recipient[0].PR_SMTP_ADDRESS = "bob@example.org"',
          'recipient[0].PR_RECIPIENT_TYPE = 1',
          '?PR_TRANSPORT_MESSAGE_HEADERS']


def simple(name, subject, headers='', body='Hello.\n', ct='text/plain; charset=us-ascii',
           cte=None):
    h = HDR.format(name=name) + 'Subject: ' + subject + '\n' + headers
    h += 'Content-Type: ' + ct + '\n'
    if cte:
        h += 'Content-Transfer-Encoding: ' + cte + '\n'
    return h + '\n' + body


# --- subjects (MS-OXCMSG 2.2.1.9: prefix = 1-3 letters, colon, space) ---
SUBJECTS = [
    ('subject-plain', 'Quarterly report', 'Quarterly report', ''),
    ('subject-re', 'RE: Quarterly report', 'RE: Quarterly report', 'RE: '),
    ('subject-fwd', 'Fwd: Lunch?', 'Fwd: Lunch?', 'Fwd: '),
    ('subject-aw', 'AW: Angebot', 'AW: Angebot', 'AW: '),
    ('subject-re-re', 'Re: Re: twice', 'Re: Re: twice', 'Re: '),
    ('subject-digits', '123: not a prefix', '123: not a prefix', ''),
    ('subject-four-letters', 'ABCD: too long', 'ABCD: too long', ''),
    ('subject-no-space', 'RE:tight', 'RE:tight', ''),
    ('subject-list-tag', '[team] weekly', '[team] weekly', ''),
    ('subject-encoded-q', '=?iso-8859-1?Q?R=E9f:_r=E9union?=', 'Réf: réunion', 'Réf: '),
    ('subject-encoded-b', '=?UTF-8?B?0J/RgNC40LLQtdGC?=', 'Привет', ''),
    ('subject-encoded-adjacent', '=?UTF-8?Q?caf=C3=A9?= =?UTF-8?Q?_cr=C3=A8me?=',
     'café crème', ''),
    ('subject-encoded-mixed', 'Re: =?UTF-8?B?5pel5pys6Kqe?= test', 'Re: 日本語 test', 'Re: '),
    ('subject-folded', 'A long subject that\n is folded onto\n two more lines',
     'A long subject that is folded onto two more lines', ''),
    ('subject-encoded-broken', '=?UTF-8?Q?unterminated', '=?UTF-8?Q?unterminated', ''),
]
for _n, _raw, _s, _p in SUBJECTS:
    def _mk(name=_n, raw=_raw, s=_s, p=_p):
        return simple(name, raw), COMMON + subject_lines(s, p) + [
            'PR_CONVERSATION_TOPIC = ' + q(s[len(p):]), 'PR_BODY = "Hello.\\r\\n"',
            'PR_NATIVE_BODY_INFO = 1']
    case(_n)(_mk)


@case('subject-missing')
def _():
    eml = HDR.format(name='subject-missing') + 'Content-Type: text/plain\n\nNo subject.\n'
    return eml, COMMON + ['!PR_SUBJECT', '!PR_NORMALIZED_SUBJECT']


# --- importance and friends (MS-OXCMAIL 2.2.3.2.5) ---
IMPORTANCE = [
    ('importance-high', 'Importance: high\n', ['PR_IMPORTANCE = 2']),
    ('importance-low', 'Importance: Low\n', ['PR_IMPORTANCE = 0']),
    ('importance-normal', 'Importance: normal\n', ['PR_IMPORTANCE = 1']),
    ('priority-urgent', 'Priority: urgent\n', ['PR_IMPORTANCE = 2', 'PR_PRIORITY = 1']),
    ('priority-non-urgent', 'Priority: non-urgent\n', ['PR_IMPORTANCE = 0', 'PR_PRIORITY = -1']),
    ('x-priority-1', 'X-Priority: 1 (Highest)\n', ['PR_IMPORTANCE = 2']),
    ('x-priority-3', 'X-Priority: 3\n', ['PR_IMPORTANCE = 1']),
    ('x-priority-5', 'X-Priority: 5 (Lowest)\n', ['PR_IMPORTANCE = 0']),
    ('x-msmail-priority', 'X-MSMail-Priority: High\n', ['PR_IMPORTANCE = 2']),
    ('importance-wins', 'Importance: low\nX-Priority: 1\n', ['PR_IMPORTANCE = 0']),
    ('importance-none', '', ['!PR_IMPORTANCE', '!PR_PRIORITY']),
]
for _n, _h, _e in IMPORTANCE:
    def _mk(name=_n, h=_h, e=_e):
        return simple(name, 'prio', h), COMMON + e
    case(_n)(_mk)

SENSITIVITY = [('sensitivity-personal', 'Personal', 1), ('sensitivity-private', 'Private', 2),
               ('sensitivity-confidential', 'Company-Confidential', 3)]
for _n, _v, _x in SENSITIVITY:
    def _mk(name=_n, v=_v, x=_x):
        return simple(name, 'sens', 'Sensitivity: %s\n' % v), COMMON + ['PR_SENSITIVITY = %d' % x]
    case(_n)(_mk)


# --- addresses ---
@case('addr-sender-differs')
def _():
    eml = simple('addr-sender-differs', 'on behalf', 'Sender: Secretary <sec@example.com>\n')
    return eml, COMMON + ['PR_SENDER_NAME = "Secretary"', 'PR_SENDER_SMTP_ADDRESS = "sec@example.com"',
                          'PR_SENDER_ADDRTYPE = "SMTP"', 'PR_SENT_REPRESENTING_ADDRTYPE = "SMTP"']


@case('addr-reply-to')
def _():
    eml = simple('addr-reply-to', 'replies', 'Reply-To: List <list@example.net>, other@example.net\n')
    return eml, COMMON + ['PR_REPLY_RECIPIENT_NAMES = "List;other@example.net"',
                          '?PR_REPLY_RECIPIENT_ENTRIES']


@case('addr-many')
def _():
    eml = ('From: alice@example.com\n'
           'To: "Doe, John" <john@example.org>, =?UTF-8?Q?J=C3=BCrgen?= <jurgen@example.de>\n'
           'Cc: carol@example.org\nBcc: dave@example.org\n'
           'Subject: many\nDate: Mon, 02 Mar 2026 10:15:30 +0000\n\nbody\n')
    return eml, ['PR_SENT_REPRESENTING_NAME = "alice@example.com"',
                 'recipient[0].PR_DISPLAY_NAME = "Doe, John"',
                 'recipient[0].PR_RECIPIENT_TYPE = 1',
                 'recipient[1].PR_DISPLAY_NAME = "Jürgen"',
                 'recipient[1].PR_SMTP_ADDRESS = "jurgen@example.de"',
                 'recipient[2].PR_RECIPIENT_TYPE = 2',
                 'recipient[3].PR_RECIPIENT_TYPE = 3',
                 'recipient[3].PR_SMTP_ADDRESS = "dave@example.org"',
                 'PR_DISPLAY_TO = "Doe, John; Jürgen"', 'PR_DISPLAY_CC = "carol@example.org"',
                 'PR_DISPLAY_BCC = "dave@example.org"', '!recipient[4].PR_RECIPIENT_TYPE']


@case('addr-group')
def _():
    eml = ('From: alice@example.com\nTo: Team: a@example.org, b@example.org;, c@example.org\n'
           'Cc: undisclosed-recipients:;\nSubject: group\n\nbody\n')
    return eml, ['recipient[0].PR_SMTP_ADDRESS = "a@example.org"',
                 'recipient[1].PR_SMTP_ADDRESS = "b@example.org"',
                 'recipient[2].PR_SMTP_ADDRESS = "c@example.org"', '!recipient[3].PR_SMTP_ADDRESS',
                 '!PR_DISPLAY_CC']


@case('addr-encoded-8bit-name')
def _():
    eml = ('From: =?ISO-8859-1?Q?Fran=E7ois?= <f@example.fr>\n'
           'To: "Zoë" <zoe@example.org>\nSubject: names\n\nbody\n').encode('utf-8')
    return eml, ['PR_SENT_REPRESENTING_NAME = "François"', 'recipient[0].PR_DISPLAY_NAME = "Zoë"']


# --- dates ---
@case('date-offset')
def _():
    eml = simple('date-offset', 'tz').replace('Mon, 02 Mar 2026 10:15:30 +0000',
                                              'Mon, 2 Mar 2026 12:15:30 +0200')
    return eml, ['PR_CLIENT_SUBMIT_TIME = 2026-03-02T10:15:30.000Z']


@case('date-obsolete-zone')
def _():
    eml = simple('date-obsolete-zone', 'tz').replace('Mon, 02 Mar 2026 10:15:30 +0000',
                                                     '02 Mar 26 05:15:30 EST')
    return eml, ['PR_CLIENT_SUBMIT_TIME = 2026-03-02T10:15:30.000Z']


@case('date-missing')
def _():
    eml = 'From: a@example.com\nTo: b@example.org\nSubject: when\n\nbody\n'
    # MS-OXCMAIL: a missing Date gives the current time.
    return eml, ['?PR_CLIENT_SUBMIT_TIME', '!PR_MESSAGE_DELIVERY_TIME']


@case('received-delivery-time')
def _():
    h = ('Received: from mx.example.org by mail.example.com with ESMTPS id 1;\n'
         '\tTue, 03 Mar 2026 08:00:01 +0100\n'
         'Received: from client by mx.example.org; Tue, 03 Mar 2026 06:00:00 +0000\n')
    eml = h + simple('received-delivery-time', 'rcvd')
    return eml, ['PR_MESSAGE_DELIVERY_TIME = 2026-03-03T07:00:01.000Z']


# --- threading ---
@case('thread-reply')
def _():
    ti = bytes(range(22))
    h = ('In-Reply-To: <parent@example.com>\n'
         'References: <root@example.com>\n <parent@example.com>\n'
         'Thread-Index: %s\nThread-Topic: =?UTF-8?Q?Caf=C3=A9_plans?=\n' % base64.b64encode(ti).decode())
    return simple('thread-reply', 'RE: Café plans'.encode('utf-8').decode('latin-1') and
                  '=?UTF-8?Q?RE:_Caf=C3=A9_plans?=', h), \
        ['PR_IN_REPLY_TO_ID = "<parent@example.com>"',
         'PR_INTERNET_REFERENCES = "<root@example.com> <parent@example.com>"',
         'PR_CONVERSATION_INDEX = [22] ' + ti.hex(), 'PR_CONVERSATION_TOPIC = "Café plans"',
         'PR_INTERNET_MESSAGE_ID = "<thread-reply@corpus.hermod.test>"'] + \
        subject_lines('RE: Café plans', 'RE: ')


# --- languages, keywords, lists, receipts ---
for _n, _tag, _lcid in [('language-de', 'de-DE', 0x0407), ('language-en-gb', 'en-GB', 0x0809),
                        ('language-ja', 'ja', 0x0411)]:
    def _mk(name=_n, tag=_tag, lcid=_lcid):
        return simple(name, 'lang', 'Content-Language: %s\n' % tag), \
            ['PR_MESSAGE_LOCALE_ID = %d' % lcid]
    case(_n)(_mk)


@case('keywords')
def _():
    return simple('keywords', 'kw', 'Keywords: project, =?UTF-8?Q?r=C3=A9union?=, urgent\n'), \
        ['PS_PUBLIC_STRINGS:"Keywords":PT_MV_UNICODE = {"project", "réunion", "urgent"}']


@case('list-headers')
def _():
    h = ('List-Id: Dev list <dev.lists.example.org>\n'
         'List-Help: <mailto:dev-help@lists.example.org>\n'
         'List-Subscribe: <mailto:dev-join@lists.example.org>\n'
         'List-Unsubscribe: <mailto:dev-leave@lists.example.org>, <https://lists.example.org/u>\n'
         'List-Post: <mailto:dev@lists.example.org>\n')
    return simple('list-headers', '[dev] hello', h), [
        'PR_LIST_HELP = "<mailto:dev-help@lists.example.org>"',
        'PR_LIST_SUBSCRIBE = "<mailto:dev-join@lists.example.org>"',
        'PR_LIST_UNSUBSCRIBE = "<mailto:dev-leave@lists.example.org>, <https://lists.example.org/u>"',
        'PS_INTERNET_HEADERS:"List-Id":PT_UNICODE = "Dev list <dev.lists.example.org>"',
        'PS_INTERNET_HEADERS:"List-Post":PT_UNICODE = "<mailto:dev@lists.example.org>"']


@case('receipts')
def _():
    h = 'Disposition-Notification-To: Alice <alice@example.com>\nReturn-Receipt-To: alice@example.com\n'
    return simple('receipts', 'please confirm', h), [
        'PR_READ_RECEIPT_REQUESTED = true', 'PR_ORIGINATOR_DELIVERY_REPORT_REQUESTED = true',
        'PR_READ_RECEIPT_SMTP_ADDRESS = "alice@example.com"']


@case('no-receipts')
def _():
    return simple('no-receipts', 'plain'), ['!PR_READ_RECEIPT_REQUESTED',
                                           '!PR_ORIGINATOR_DELIVERY_REPORT_REQUESTED']


# --- bodies ---
HTML = '<html><body><p>Hello <b>world</b></p></body></html>'


@case('body-html-only')
def _():
    eml = simple('body-html-only', 'html', body=HTML + '\n', ct='text/html; charset=utf-8')
    return eml, ['PR_NATIVE_BODY_INFO = 3', 'PR_INTERNET_CPID = 65001', '?PR_HTML', '?PR_BODY']


@case('body-alternative')
def _():
    body = ('--ALT\nContent-Type: text/plain; charset=utf-8\n\nHello world\n'
            '--ALT\nContent-Type: text/html; charset=utf-8\n\n' + HTML + '\n--ALT--\n')
    eml = simple('body-alternative', 'alt', body=body, ct='multipart/alternative; boundary=ALT')
    return eml, ['PR_NATIVE_BODY_INFO = 3', 'PR_BODY = "Hello world"',
                 'PR_HTML = [%d] %s' % (len(HTML), HTML.encode()[:64].hex() + ('...' if len(HTML) > 64 else '')),
                 '!attachment[0].PR_ATTACH_METHOD', 'PR_MESSAGE_FLAGS = 0']


@case('body-alternative-reversed-order')
def _():
    # Order in the alternative does not change which part is HTML.
    body = ('--ALT\nContent-Type: text/html; charset=utf-8\n\n' + HTML + '\n'
            '--ALT\nContent-Type: text/plain; charset=utf-8\n\nHello world\n--ALT--\n')
    eml = simple('body-alternative-reversed-order', 'alt', body=body,
                 ct='multipart/alternative; boundary=ALT')
    return eml, ['PR_NATIVE_BODY_INFO = 3', 'PR_BODY = "Hello world"']


PNG = bytes.fromhex('89504e470d0a1a0a0000000d4948445200000001000000010806000000'
                    '1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082')


@case('body-related-inline-image')
def _():
    html = '<html><body><p>Logo: <img src="cid:logo@corpus"></p></body></html>'
    body = ('--REL\nContent-Type: text/html; charset=utf-8\n\n' + html + '\n'
            '--REL\nContent-Type: image/png\nContent-ID: <logo@corpus>\n'
            'Content-Disposition: inline; filename="logo.png"\nContent-Transfer-Encoding: base64\n\n'
            + b64(PNG) + '\n--REL--\n')
    eml = simple('body-related-inline-image', 'related', body=body,
                 ct='multipart/related; boundary=REL; type="text/html"')
    return eml, ['attachment[0].PR_ATTACH_CONTENT_ID = "logo@corpus"',
                 'attachment[0].PR_ATTACHMENT_HIDDEN = true', 'attachment[0].PR_ATTACH_FLAGS = 4',
                 'attachment[0].PR_ATTACH_MIME_TAG = "image/png"',
                 'attachment[0].PR_ATTACH_LONG_FILENAME = "logo.png"',
                 'attachment[0].PR_ATTACH_DATA_BIN = ' + digest(PNG),
                 'PR_MESSAGE_FLAGS = 0', 'PR_NATIVE_BODY_INFO = 3']


@case('body-alt-related-mixed')
def _():
    html = '<p>See <img src="cid:chart"> and the file.</p>'
    pdf = b'%PDF-1.4\n% corpus\n' + bytes(range(256))
    body = ('--MIX\nContent-Type: multipart/alternative; boundary=ALT\n\n'
            '--ALT\nContent-Type: text/plain\n\nSee the chart and the file.\n'
            '--ALT\nContent-Type: multipart/related; boundary=REL\n\n'
            '--REL\nContent-Type: text/html; charset=us-ascii\n\n' + html + '\n'
            '--REL\nContent-Type: image/png\nContent-ID: <chart>\nContent-Transfer-Encoding: base64\n\n'
            + b64(PNG) + '\n--REL--\n--ALT--\n'
            '--MIX\nContent-Type: application/pdf; name="q1.pdf"\n'
            'Content-Disposition: attachment; filename="q1.pdf"\nContent-Transfer-Encoding: base64\n\n'
            + b64(pdf) + '\n--MIX--\n')
    eml = simple('body-alt-related-mixed', 'full', body=body, ct='multipart/mixed; boundary=MIX')
    return eml, ['PR_BODY = "See the chart and the file."', 'PR_NATIVE_BODY_INFO = 3',
                 'attachment[0].PR_ATTACH_CONTENT_ID = "chart"',
                 'attachment[0].PR_ATTACHMENT_HIDDEN = true',
                 'attachment[1].PR_ATTACH_LONG_FILENAME = "q1.pdf"',
                 'attachment[1].PR_ATTACH_EXTENSION = ".pdf"',
                 'attachment[1].PR_ATTACH_DATA_BIN = ' + digest(pdf),
                 'attachment[1].PR_ATTACH_METHOD = 1', 'PR_MESSAGE_FLAGS = 16']


@case('body-enriched')
def _():
    body = 'This is <bold>bold</bold> and <italic>italic</italic>.\n\n<<not a tag>\n'
    eml = simple('body-enriched', 'enriched', body=body, ct='text/enriched')
    return eml, ['PR_NATIVE_BODY_INFO = 3', '?PR_HTML', '?PR_BODY']


@case('body-plain-then-text-attachment')
def _():
    note = 'a text file\n'
    body = ('--M\nContent-Type: text/plain\n\nBody text\n'
            '--M\nContent-Type: text/plain; charset=iso-8859-1; name="note.txt"\n'
            'Content-Disposition: attachment; filename="note.txt"\n\n' + note + '--M--\n')
    eml = simple('body-plain-then-text-attachment', 'txt', body=body, ct='multipart/mixed; boundary=M')
    return eml, ['PR_BODY = "Body text"', 'attachment[0].PR_ATTACH_LONG_FILENAME = "note.txt"',
                 'attachment[0].PR_TEXT_ATTACHMENT_CHARSET = "iso-8859-1"',
                 'attachment[0].PR_ATTACH_DATA_BIN = ' + digest(note.encode()[:-1]),
                 'PR_NATIVE_BODY_INFO = 1']


@case('body-empty')
def _():
    return simple('body-empty', 'nothing', body=''), ['PR_BODY = ""', 'PR_NATIVE_BODY_INFO = 1']


@case('body-qp')
def _():
    text = 'Gr\u00fc\u00dfe aus K\u00f6ln \u2013 long line ' + 'x' * 100
    enc = quopri.encodestring(text.encode('utf-8')).decode()
    eml = simple('body-qp', 'qp', body=enc + '\n', ct='text/plain; charset=utf-8',
                 cte='quoted-printable')
    return eml, ['PR_BODY = ' + q(text + '\r\n')]


@case('body-base64-text')
def _():
    text = 'Base64 text body\r\nsecond line'
    eml = simple('body-base64-text', 'b64', body=b64(text.encode()) + '\n', cte='base64')
    return eml, ['PR_BODY = ' + q(text)]


@case('body-crlf-normalised')
def _():
    eml = simple('body-crlf-normalised', 'crlf', body='one\ntwo\nthree\n')
    return eml.replace('\n', '\r\n'), ['PR_BODY = "one\\r\\ntwo\\r\\nthree\\r\\n"']


@case('body-html-meta-charset')
def _():
    html = '<html><head><meta charset="windows-1251"></head><body>\u041f\u0440\u0438\u0432\u0435\u0442</body></html>'
    eml = simple('body-html-meta-charset', 'meta', ct='text/html').encode() + \
        b''  # placeholder
    h = simple('body-html-meta-charset', 'meta', body='', ct='text/html')
    eml = h.encode() + html.encode('cp1251') + b'\n'
    return eml, ['PR_NATIVE_BODY_INFO = 3', 'PR_BODY = "\u041f\u0440\u0438\u0432\u0435\u0442"']


# --- charsets ---
@case('charset-iso-2022-jp')
def _():
    text = '\u3053\u3093\u306b\u3061\u306f\u3001\u4e16\u754c\u3002\n'
    subj = '\u4f1a\u8b70\u306e\u4ef6'
    esubj = '=?ISO-2022-JP?B?' + base64.b64encode(subj.encode('iso2022_jp')).decode() + '?='
    eml = simple('charset-iso-2022-jp', esubj, ct='text/plain; charset=ISO-2022-JP', cte='7bit',
                 body='').encode() + text.encode('iso2022_jp')
    return eml, subject_lines(subj) + ['PR_BODY = ' + q(text.replace('\n', '\r\n'))]


@case('charset-gb18030')
def _():
    text = '\u4f60\u597d\uff0c\u4e16\u754c \U00020000\n'
    eml = simple('charset-gb18030', '=?GB18030?B?' + base64.b64encode('\u4e2d\u6587'.encode('gb18030')).decode() + '?=',
                 ct='text/plain; charset=GB18030', cte='8bit', body='').encode() + text.encode('gb18030')
    return eml, subject_lines('\u4e2d\u6587') + ['PR_BODY = ' + q(text.replace('\n', '\r\n'))]


@case('charset-gb2312-as-gbk')
def _():
    # Declared gb2312 but using a GBK-only character: read as GB18030.
    text = '\u9555\u5b57\n'
    eml = simple('charset-gb2312-as-gbk', 'gbk', ct='text/plain; charset=gb2312', body='').encode() + \
        text.encode('gbk')
    return eml, ['PR_BODY = ' + q(text.replace('\n', '\r\n'))]


@case('charset-koi8-r')
def _():
    text = '\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440!\n'
    eml = simple('charset-koi8-r', '=?KOI8-R?Q?' + ''.join('=%02X' % b for b in '\u041f\u0440\u0438\u0432\u0435\u0442'.encode('koi8_r')) + '?=',
                 ct='text/plain; charset=KOI8-R', cte='8bit', body='').encode() + text.encode('koi8_r')
    return eml, subject_lines('\u041f\u0440\u0438\u0432\u0435\u0442') + [
        'PR_BODY = ' + q(text.replace('\n', '\r\n'))]


@case('charset-1252-labelled-latin1')
def _():
    text = '\u201cSmart quotes\u201d \u2013 and \u20ac5\n'
    eml = simple('charset-1252-labelled-latin1', 'quotes', ct='text/plain; charset=ISO-8859-1',
                 cte='8bit', body='').encode() + text.encode('cp1252')
    return eml, ['PR_BODY = ' + q(text.replace('\n', '\r\n'))]


@case('charset-invalid-utf8')
def _():
    eml = simple('charset-invalid-utf8', 'bad bytes', ct='text/plain; charset=utf-8', cte='8bit',
                 body='').encode() + b'ok \xff\xfe bad \xc3\x28 end\n'
    return eml, ['PR_BODY = "ok \ufffd\ufffd bad \ufffd( end\\r\\n"']


@case('charset-unknown')
def _():
    eml = simple('charset-unknown', 'unknown', ct='text/plain; charset=x-no-such-charset',
                 cte='8bit', body='').encode() + 'caf\u00e9\n'.encode('cp1252')
    return eml, ['PR_BODY = "caf\u00e9\\r\\n"']


@case('charset-none-utf8')
def _():
    eml = simple('charset-none-utf8', 'none', ct='text/plain', cte='8bit', body='').encode() + \
        'na\u00efve \u2713\n'.encode('utf-8')
    return eml, ['PR_BODY = "na\u00efve \u2713\\r\\n"']


@case('charset-utf16')
def _():
    text = 'UTF-16 body \u00e9\n'
    eml = simple('charset-utf16', 'utf16', ct='text/plain; charset=utf-16', cte='base64',
                 body=b64(text.encode('utf-16')) + '\n')
    return eml, ['PR_BODY = ' + q(text.replace('\n', '\r\n'))]


@case('header-8bit-utf8')
def _():
    eml = ('From: J\u00fcrgen <j@example.de>\nTo: b@example.org\nSubject: Gr\u00fc\u00dfe\n'
           'Date: Mon, 02 Mar 2026 10:15:30 +0000\n\nbody\n').encode('utf-8')
    return eml, subject_lines('Gr\u00fc\u00dfe') + ['PR_SENT_REPRESENTING_NAME = "J\u00fcrgen"']


@case('header-8bit-latin1')
def _():
    eml = ('From: J\u00fcrgen <j@example.de>\nTo: b@example.org\nSubject: Gr\u00fc\u00dfe\n'
           'Date: Mon, 02 Mar 2026 10:15:30 +0000\n\nbody\n').encode('latin-1')
    return eml, subject_lines('Gr\u00fc\u00dfe') + ['PR_SENT_REPRESENTING_NAME = "J\u00fcrgen"']


# --- attachment names ---
NAMES = [
    ('name-rfc2231', 'attachment; filename*=UTF-8\'\'r%C3%A9sum%C3%A9%20final.pdf', None,
     'r\u00e9sum\u00e9 final.pdf'),
    ('name-rfc2231-continuation',
     'attachment;\n filename*0*=UTF-8\'\'%E6%97%A5%E6%9C%AC;\n filename*1*=%E8%AA%9E.txt', None,
     '\u65e5\u672c\u8a9e.txt'),
    ('name-rfc2231-latin1', 'attachment; filename*=iso-8859-1\'de\'M%FCnchen.doc', None,
     'M\u00fcnchen.doc'),
    ('name-rfc2047', 'attachment; filename="=?UTF-8?B?0L7RgtGH0LXRgi5kb2N4?="', None,
     '\u043e\u0442\u0447\u0435\u0442.docx'),
    ('name-ctype-only', None, 'name="budget.xlsx"', 'budget.xlsx'),
    ('name-path-stripped', 'attachment; filename="C:\\\\Users\\\\me\\\\report.txt"', None,
     'report.txt'),
    ('name-quoted-spaces', 'attachment; filename="my file (1).zip"', None, 'my file (1).zip'),
]
for _n, _disp, _ctparam, _want in NAMES:
    def _mk(name=_n, disp=_disp, ctparam=_ctparam, want=_want):
        data = ('attachment of ' + name + '\n').encode()
        part = 'Content-Type: application/octet-stream' + ('; ' + ctparam if ctparam else '') + '\n'
        if disp:
            part += 'Content-Disposition: ' + disp + '\n'
        part += 'Content-Transfer-Encoding: base64\n\n' + b64(data) + '\n'
        body = '--M\nContent-Type: text/plain\n\nsee attached\n--M\n' + part + '--M--\n'
        eml = simple(name, 'file', body=body, ct='multipart/mixed; boundary=M')
        ext = os.path.splitext(want)[1]
        return eml, ['attachment[0].PR_ATTACH_LONG_FILENAME = ' + q(want),
                     'attachment[0].PR_DISPLAY_NAME = ' + q(want),
                     'attachment[0].PR_ATTACH_EXTENSION = ' + q(ext),
                     'attachment[0].PR_ATTACH_DATA_BIN = ' + digest(data),
                     'PR_BODY = "see attached"', 'PR_MESSAGE_FLAGS = 16']
    case(_n)(_mk)


@case('attach-many')
def _():
    parts, exp = [], []
    for i in range(12):
        data = bytes([i]) * (100 + i)
        parts.append('--M\nContent-Type: application/x-test-%d\nContent-Disposition: attachment; '
                     'filename="f%02d.bin"\nContent-Transfer-Encoding: base64\n\n%s\n' % (i, i, b64(data)))
        exp += ['attachment[%d].PR_ATTACH_LONG_FILENAME = "f%02d.bin"' % (i, i),
                'attachment[%d].PR_ATTACH_MIME_TAG = "application/x-test-%d"' % (i, i),
                'attachment[%d].PR_ATTACH_DATA_BIN = %s' % (i, digest(data))]
    body = '--M\nContent-Type: text/plain\n\nmany\n' + ''.join(parts) + '--M--\n'
    return simple('attach-many', 'many', body=body, ct='multipart/mixed; boundary=M'), exp


@case('attach-inline-not-related')
def _():
    # Apple Mail style: an inline image in multipart/mixed is still a
    # visible attachment (no HTML shows it).
    body = ('--M\nContent-Type: text/plain\n\nphoto below\n'
            '--M\nContent-Type: image/png; name="p.png"\nContent-Disposition: inline; filename="p.png"\n'
            'Content-Transfer-Encoding: base64\n\n' + b64(PNG) + '\n--M--\n')
    eml = simple('attach-inline-not-related', 'photo', body=body, ct='multipart/mixed; boundary=M')
    return eml, ['attachment[0].PR_ATTACHMENT_HIDDEN = false', '!attachment[0].PR_ATTACH_FLAGS',
                 'PR_MESSAGE_FLAGS = 16']


@case('attach-calendar')
def _():
    ics = 'BEGIN:VCALENDAR\nVERSION:2.0\nMETHOD:REQUEST\nBEGIN:VEVENT\nUID:1@corpus\nEND:VEVENT\nEND:VCALENDAR\n'
    body = ('--ALT\nContent-Type: text/plain\n\nMeeting invitation\n'
            '--ALT\nContent-Type: text/calendar; method=REQUEST; charset=utf-8\n\n' + ics + '--ALT--\n')
    eml = simple('attach-calendar', 'Invitation', body=body, ct='multipart/alternative; boundary=ALT')
    return eml, ['PR_BODY = "Meeting invitation"', 'attachment[0].PR_ATTACH_MIME_TAG = "text/calendar"',
                 # The line break before a boundary belongs to the boundary (RFC 2046 5.1.1).
                 'attachment[0].PR_ATTACH_DATA_BIN = ' + digest(ics.encode()[:-1])]


@case('attach-uuencode')
def _():
    data = b'uuencoded payload \x00\x01\x02\xff' * 3
    import binascii
    lines = [binascii.b2a_uu(data[i:i + 45]).decode() for i in range(0, len(data), 45)]
    body = 'Before the file.\nbegin 644 payload.bin\n' + ''.join(lines) + '`\nend\nAfter the file.\n'
    eml = simple('attach-uuencode', 'uu', body=body)
    return eml, ['attachment[0].PR_ATTACH_LONG_FILENAME = "payload.bin"',
                 'attachment[0].PR_ATTACH_DATA_BIN = ' + digest(data),
                 'PR_BODY = "Before the file.\\r\\nAfter the file.\\r\\n"']


@case('attach-cte-uuencode')
def _():
    import binascii
    data = b'x-uuencode transfer encoding\n'
    enc = 'begin 644 t.txt\n' + binascii.b2a_uu(data).decode() + '`\nend\n'
    body = ('--M\nContent-Type: text/plain\n\ntext\n--M\nContent-Type: application/octet-stream; name="t.txt"\n'
            'Content-Transfer-Encoding: x-uuencode\n\n' + enc + '--M--\n')
    eml = simple('attach-cte-uuencode', 'uu2', body=body, ct='multipart/mixed; boundary=M')
    return eml, ['attachment[0].PR_ATTACH_DATA_BIN = ' + digest(data)]


# --- forwarded / embedded messages ---
INNER = ('From: Carol <carol@example.org>\nTo: Alice <alice@example.com>\n'
         'Subject: Original topic\nDate: Sun, 01 Mar 2026 09:00:00 +0000\n'
         'Message-ID: <inner@example.org>\nContent-Type: text/plain\n\nOriginal body\n')


@case('forward-rfc822')
def _():
    body = ('--M\nContent-Type: text/plain\n\nFYI\n--M\nContent-Type: message/rfc822\n'
            'Content-Disposition: attachment\n\n' + INNER + '--M--\n')
    eml = simple('forward-rfc822', 'Fwd: Original topic', body=body, ct='multipart/mixed; boundary=M')
    return eml, ['attachment[0].PR_ATTACH_METHOD = 5', 'attachment[0].PR_DISPLAY_NAME = "Original topic"',
                 'attachment[0].PR_ATTACH_MIME_TAG = "message/rfc822"',
                 'attachment[0].embedded.PR_SUBJECT = "Original topic"',
                 'attachment[0].embedded.PR_BODY = "Original body"',
                 'attachment[0].embedded.PR_SENT_REPRESENTING_NAME = "Carol"',
                 'attachment[0].embedded.PR_INTERNET_MESSAGE_ID = "<inner@example.org>"',
                 'attachment[0].embedded.recipient[0].PR_SMTP_ADDRESS = "alice@example.com"',
                 'attachment[0].embedded.PR_CLIENT_SUBMIT_TIME = 2026-03-01T09:00:00.000Z']


@case('forward-nested-twice')
def _():
    mid = ('From: Dave <dave@example.org>\nSubject: Fwd: Original topic\n'
           'Content-Type: multipart/mixed; boundary=N\n\n--N\nContent-Type: text/plain\n\nsee below\n'
           '--N\nContent-Type: message/rfc822\n\n' + INNER + '--N--\n')
    body = ('--M\nContent-Type: text/plain\n\nFYI again\n--M\nContent-Type: message/rfc822\n\n'
            + mid + '--M--\n')
    eml = simple('forward-nested-twice', 'Fwd: Fwd: Original topic', body=body,
                 ct='multipart/mixed; boundary=M')
    return eml, ['attachment[0].embedded.PR_SUBJECT = "Fwd: Original topic"',
                 'attachment[0].embedded.attachment[0].PR_ATTACH_METHOD = 5',
                 'attachment[0].embedded.attachment[0].embedded.PR_SUBJECT = "Original topic"',
                 'attachment[0].embedded.attachment[0].embedded.PR_BODY = "Original body"']


@case('forward-inline-rfc822')
def _():
    body = ('--M\nContent-Type: text/plain\n\nquoted below\n--M\nContent-Type: message/rfc822\n'
            'Content-Disposition: inline\n\n' + INNER + '--M--\n')
    eml = simple('forward-inline-rfc822', 'Fwd', body=body, ct='multipart/mixed; boundary=M')
    return eml, ['attachment[0].PR_ATTACH_METHOD = 5', 'PR_BODY = "quoted below"']


@case('digest')
def _():
    body = ('--D\n\n' + INNER + '--D\n\n' + INNER.replace('Original', 'Second') + '--D--\n')
    eml = simple('digest', 'digest', body=body, ct='multipart/digest; boundary=D')
    return eml, ['attachment[0].embedded.PR_SUBJECT = "Original topic"',
                 'attachment[1].embedded.PR_SUBJECT = "Second topic"']


@case('only-attachment')
def _():
    data = b'%PDF-1.4 only'
    eml = simple('only-attachment', 'scan', body=b64(data) + '\n',
                 ct='application/pdf; name="scan.pdf"', cte='base64')
    return eml, ['attachment[0].PR_ATTACH_LONG_FILENAME = "scan.pdf"', '!PR_BODY',
                 'attachment[0].PR_ATTACH_DATA_BIN = ' + digest(data)]


# --- S/MIME (MS-OXOSMIME) ---
@case('smime-signed')
def _():
    sig = b64(b'\x30\x82fake-signature')
    body = ('This is a cryptographically signed message in MIME format.\n\n'
            '--S\nContent-Type: text/plain; charset=us-ascii\n\nSigned text\n'
            '--S\nContent-Type: application/pkcs7-signature; name="smime.p7s"\n'
            'Content-Transfer-Encoding: base64\nContent-Disposition: attachment; filename="smime.p7s"\n\n'
            + sig + '\n--S--\n')
    eml = simple('smime-signed', 'signed', body=body,
                 ct='multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary=S')
    return eml, ['PR_MESSAGE_CLASS = "IPM.Note.SMIME.MultipartSigned"',
                 'attachment[0].PR_ATTACH_MIME_TAG = "multipart/signed"',
                 'attachment[0].PR_ATTACH_LONG_FILENAME = "smime.p7m"',
                 'PR_BODY = "Signed text"', '!attachment[1].PR_ATTACH_METHOD']


@case('smime-encrypted')
def _():
    blob = bytes.fromhex('3080') + bytes.fromhex('06092a864886f70d010703') + b'\x00' * 20
    eml = simple('smime-encrypted', 'secret', body=b64(blob) + '\n',
                 ct='application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"', cte='base64')
    return eml, ['PR_MESSAGE_CLASS = "IPM.Note.SMIME"',
                 'attachment[0].PR_ATTACH_MIME_TAG = "application/pkcs7-mime"',
                 'attachment[0].PR_ATTACH_DATA_BIN = ' + digest(blob)]


@case('pgp-signed-not-smime')
def _():
    body = ('--S\nContent-Type: text/plain\n\nPGP signed\n--S\nContent-Type: application/pgp-signature\n\n'
            '-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----\n--S--\n')
    eml = simple('pgp-signed-not-smime', 'pgp', body=body,
                 ct='multipart/signed; protocol="application/pgp-signature"; boundary=S')
    return eml, ['PR_MESSAGE_CLASS = "IPM.Note"', 'PR_BODY = "PGP signed"',
                 'attachment[0].PR_ATTACH_MIME_TAG = "application/pgp-signature"']


# --- malformed MIME, read as mainstream clients do ---
@case('malformed-missing-final-boundary')
def _():
    body = '--M\nContent-Type: text/plain\n\nfirst part\n--M\nContent-Type: text/plain; name="a.txt"\n\nattached\n'
    eml = simple('malformed-missing-final-boundary', 'broken', body=body, ct='multipart/mixed; boundary=M')
    return eml, ['PR_BODY = "first part"', 'attachment[0].PR_ATTACH_LONG_FILENAME = "a.txt"']


@case('malformed-wrong-boundary')
def _():
    body = '--OTHER\nContent-Type: text/plain\n\nnever split\n--OTHER--\n'
    eml = simple('malformed-wrong-boundary', 'broken', body=body, ct='multipart/mixed; boundary=M')
    return eml, ['?PR_SUBJECT']


@case('malformed-no-boundary-param')
def _():
    eml = simple('malformed-no-boundary-param', 'broken', body='just text\n', ct='multipart/mixed')
    return eml, ['?PR_SUBJECT']


@case('malformed-bare-cr-mix')
def _():
    eml = simple('malformed-bare-cr-mix', 'mixed ends', body='a\r\nb\nc\r\n').replace('\n', '\r\n', 3)
    return eml, ['PR_BODY = "a\\r\\nb\\r\\nc\\r\\n"']


@case('malformed-header-garbage')
def _():
    eml = ('From: a@example.com\nThis line has no colon\nX-Good: yes\nSubject: survives\n'
           'Content-Type: text/plain\n\nbody\n')
    return eml, ['?PR_SENT_REPRESENTING_NAME']


@case('malformed-truncated-base64')
def _():
    body = '--M\nContent-Type: text/plain\n\nt\n--M\nContent-Type: application/octet-stream; name=x.bin\n' \
           'Content-Transfer-Encoding: base64\n\nAAEC!!!AwQ\n--M--\n'
    eml = simple('malformed-truncated-base64', 'b64', body=body, ct='multipart/mixed; boundary=M')
    return eml, ['attachment[0].PR_ATTACH_LONG_FILENAME = "x.bin"']


@case('malformed-unknown-cte')
def _():
    eml = simple('malformed-unknown-cte', 'cte', body='plain anyway\n', cte='x-made-up')
    return eml, ['?PR_BODY']


@case('malformed-ctype-no-subtype')
def _():
    eml = simple('malformed-ctype-no-subtype', 'ct', body='text\n', ct='text')
    return eml, ['?PR_SUBJECT']


@case('malformed-no-mime-version')
def _():
    eml = 'From: a@example.com\nTo: b@example.org\nSubject: old\n\nplain old mail\n'
    return eml, ['PR_BODY = "plain old mail\\r\\n"', 'PR_NATIVE_BODY_INFO = 1']


@case('malformed-duplicate-headers')
def _():
    eml = simple('malformed-duplicate-headers', 'first', 'Subject: second\n')
    return eml, ['?PR_SUBJECT']


@case('malformed-long-line')
def _():
    line = 'y' * 5000
    return simple('malformed-long-line', 'long', body=line + '\n'), ['PR_BODY = ' + q(line + '\r\n')]


@case('malformed-nul-bytes')
def _():
    eml = simple('malformed-nul-bytes', 'nul', body='').encode() + b'a\x00b\n'
    return eml, ['?PR_BODY']


@case('mbox-from-line')
def _():
    eml = 'From alice@example.com Mon Mar  2 10:15:30 2026\n' + simple('mbox-from-line', 'mbox')
    return eml, ['PR_SUBJECT = "mbox"', 'PR_SENT_REPRESENTING_NAME = "Alice Example"']


@case('organization')
def _():
    return simple('organization', 'org', 'Organization: Example Corp\n'), \
        ['PR_INTERNET_ORGANIZATION = "Example Corp"']


@case('x-mailer-kept')
def _():
    return simple('x-mailer-kept', 'mailer', 'X-Mailer: Corpus Mailer 1.0\n'), \
        ['PS_INTERNET_HEADERS:"X-Mailer":PT_UNICODE = "Corpus Mailer 1.0"']


# --- winmail.dat (MS-OXCMAIL: TNEF merged into the message) ---
TNEF_SAMPLE = os.path.join(HERE, '..', 'tnef', 'sample.tnef')


@case('tnef-winmail')
def _():
    # tests/data/tnef/sample.tnef: 3 attachments (hello.txt, "data file.bin"
    # = bytes (7 * i) mod 256, an embedded message), PR_IMPORTANCE 2.
    with open(TNEF_SAMPLE, 'rb') as f:
        tnef = f.read()
    body = ('--M\nContent-Type: text/plain\n\nSee the attached winmail.dat\n'
            '--M\nContent-Type: application/ms-tnef; name="winmail.dat"\n'
            'Content-Disposition: attachment; filename="winmail.dat"\n'
            'Content-Transfer-Encoding: base64\n\n' + b64(tnef) + '\n--M--\n')
    eml = simple('tnef-winmail', 'tnef', body=body, ct='multipart/mixed; boundary=M')
    data = bytes((7 * i) % 256 for i in range(3000))
    return eml, ['PR_IMPORTANCE = 2', 'PR_CLIENT_SUBMIT_TIME = 2026-03-02T10:15:30.000Z',
                 'recipient[0].PR_SMTP_ADDRESS = "bob@example.org"',
                 'attachment[0].PR_ATTACH_LONG_FILENAME = "hello.txt"',
                 'attachment[0].PR_ATTACH_DATA_BIN = ' + digest(b'hello attachment\n'),
                 'attachment[1].PR_ATTACH_LONG_FILENAME = "data file.bin"',
                 'attachment[1].PR_ATTACH_DATA_BIN = ' + digest(data),
                 'attachment[2].PR_ATTACH_METHOD = 5', '?attachment[2].embedded.PR_SUBJECT',
                 '!attachment[3].PR_ATTACH_METHOD']


@case('tnef-broken')
def _():
    junk = b'\x78\x9f\x3e\x22' + b'not really tnef'
    body = ('--M\nContent-Type: text/plain\n\ntext\n'
            '--M\nContent-Type: application/ms-tnef; name="winmail.dat"\n'
            'Content-Transfer-Encoding: base64\n\n' + b64(junk) + '\n--M--\n')
    eml = simple('tnef-broken', 'bad tnef', body=body, ct='multipart/mixed; boundary=M')
    # A winmail.dat that does not decode stays an attachment.
    return eml, ['attachment[0].PR_ATTACH_LONG_FILENAME = "winmail.dat"',
                 'attachment[0].PR_ATTACH_DATA_BIN = ' + digest(junk)]


def main():
    seen = set()
    for name, fn in CASES:
        assert name not in seen, name
        seen.add(name)
        eml, expect = fn()
        # A later line about the same key overrides an earlier (COMMON) one.
        keyed = {}
        for line in expect:
            keyed[line.lstrip('!?').partition(' = ')[0]] = line
        expect = list(keyed.values())
        if isinstance(eml, str):
            eml = eml.encode('utf-8')
        with open(os.path.join(HERE, name + '.eml'), 'wb') as f:
            f.write(eml)
        with open(os.path.join(HERE, name + '.expect'), 'w', encoding='utf-8') as f:
            f.write('# %s: generated by gen_corpus.py\n' % name)
            for line in expect:
                f.write(line + '\n')
    print('%d messages' % len(CASES))


if __name__ == '__main__':
    main()
