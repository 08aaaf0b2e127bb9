#!/usr/bin/python3
"""make bench-ews: Exchange Web Services under 20 concurrent clients.

One user's Inbox holds 10,000 messages (put in through IMAP MULTIAPPEND
with distinct dates, so they are real MIME deliveries with MAPI properties
from MS-OXCMAIL). Each client keeps one HTTP/1.1 connection (Basic auth,
as exchangelib does) and loops:
  FindItem   the first 50 of the Inbox sorted by DateTimeReceived
             descending, Default shape (what a client's list view asks)
  GetItem    the 50 it found, in one request, Default shape (with bodies)
Prints the FindItem latency percentiles and the items GetItem returned per
second:
  ews: finditem_p50_ms=N finditem_p99_ms=N getitem_per_s=N
There is no peer to compare with on this machine (no Exchange), so the
figures stand alone; the client's CPU share is printed since client and
server share the two cores. BENCH_CLIENTS, BENCH_MESSAGES, BENCH_SECONDS,
BENCH_PROCS tune it."""
import argparse
import base64
import http.client
import multiprocessing as mp
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOMAIN = "bench.test"
USER = f"ews@{DOMAIN}"
PASSWORD = "bench-Password-1"
WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike "
         "november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee "
         "zulu meeting report budget invoice travel project review draft").split()
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()

ENV = ('<?xml version="1.0" encoding="utf-8"?><s:Envelope '
       'xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
       'xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" '
       'xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><s:Header>'
       '<t:RequestServerVersion Version="Exchange2016"/></s:Header><s:Body>{}</s:Body>'
       "</s:Envelope>")
FIND = ENV.format(
    '<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>Default</t:BaseShape>'
    "</m:ItemShape>"
    '<m:IndexedPageItemView MaxEntriesReturned="50" Offset="0" BasePoint="Beginning"/>'
    '<m:SortOrder><t:FieldOrder Order="Descending"><t:FieldURI FieldURI='
    '"item:DateTimeReceived"/></t:FieldOrder></m:SortOrder><m:ParentFolderIds>'
    '<t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds></m:FindItem>').encode()
GET = ('<m:GetItem><m:ItemShape><t:BaseShape>Default</t:BaseShape></m:ItemShape>'
       "<m:ItemIds>{}</m:ItemIds></m:GetItem>")
ITEM_ID = re.compile(rb'<t:ItemId Id="([^"]+)"')


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def message(i):
    w = [WORDS[(i * 7 + k * 13) % len(WORDS)] for k in range(200)]
    body = "\r\n".join(" ".join(w[k:k + 12]) for k in range(0, 200, 12)) + "\r\n"
    day, month, year = 1 + i % 28, MONTHS[(i // 28) % 12], 2020 + i // 336
    return (f"From: Sender {i % 37} <sender{i % 37}@example.org>\r\n"
            f"To: User <{USER}>\r\nSubject: {w[0]} {w[1]} message {i}\r\n"
            f"Date: {day} {month} {year} 10:{i % 60:02d}:00 +0000\r\n"
            f"Message-ID: <bench.{i}@example.org>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n\r\n" + body).encode(), \
        f'"{day:02d}-{month}-{year} 10:{i % 60:02d}:00 +0000"'.encode()


def imap_cmd(s, buf, tag, data):
    s.sendall(data)
    while True:
        while b"\r\n" not in buf[0]:
            d = s.recv(65536)
            if not d:
                raise EOFError
            buf[0] += d
        line, buf[0] = buf[0].split(b"\r\n", 1)
        if line.startswith(tag + b" "):
            if not line.startswith(tag + b" OK"):
                raise RuntimeError(line.decode(errors="replace"))
            return


def fill(port, n):
    s = socket.create_connection(("127.0.0.1", port))
    buf = [b""]
    while b"\r\n" not in buf[0]:
        buf[0] += s.recv(4096)
    buf[0] = buf[0].split(b"\r\n", 1)[1]
    imap_cmd(s, buf, b"a", f"a LOGIN {USER} {PASSWORD}\r\n".encode())
    for k in range(0, n, 100):
        parts = b""
        for i in range(k, min(n, k + 100)):
            msg, date = message(i)
            parts += b" (\\Seen) " + date + b" {%d+}\r\n" % len(msg) + msg
        tag = b"b%d" % k
        imap_cmd(s, buf, tag, tag + b" APPEND INBOX" + parts + b"\r\n")
    s.close()


class Ews:
    def __init__(self, port):
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        self.h = {"Content-Type": "text/xml; charset=utf-8", "Authorization": "Basic " + auth}

    def post(self, body):
        self.c.request("POST", "/EWS/Exchange.asmx", body, self.h)
        r = self.c.getresponse()
        data = r.read()
        if r.status != 200 or b'ResponseClass="Error"' in data:
            raise RuntimeError(f"EWS {r.status}: {data[:500]!r}")
        return data


def client_thread(port, deadline, out):
    e = Ews(port)
    lat, items = [], 0
    while time.time() < deadline:
        t0 = time.perf_counter()
        found = e.post(FIND)
        lat.append(time.perf_counter() - t0)
        ids = ITEM_ID.findall(found)
        if len(ids) != 50:
            raise RuntimeError(f"FindItem found {len(ids)} items")
        got = e.post(ENV.format(GET.format(
            "".join(f'<t:ItemId Id="{i.decode()}"/>' for i in ids))).encode())
        items += len(ITEM_ID.findall(got))
    out.append((lat, items))


def client_proc(args):
    port, threads, seconds = args
    cpu0 = time.process_time()
    t0 = time.time()
    deadline = t0 + seconds
    out = []
    ts = [threading.Thread(target=client_thread, args=(port, deadline, out))
          for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if len(out) != threads:
        raise RuntimeError("a client failed")
    lat = [x for o in out for x in o[0]]
    return lat, sum(o[1] for o in out), (time.process_time() - cpu0) / (time.time() - t0)


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=int(os.environ.get("BENCH_CLIENTS", 20)))
    ap.add_argument("--messages", type=int, default=int(os.environ.get("BENCH_MESSAGES", 10000)))
    ap.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", 20)))
    ap.add_argument("--procs", type=int, default=int(os.environ.get("BENCH_PROCS", 2)))
    a = ap.parse_args()
    binary = os.path.join(ROOT, os.environ.get("BUILD", "build"), "src", "cmd", "hermod")
    work = tempfile.mkdtemp(prefix="hermod-bench-ews-")
    http_port, imap_port = free_port(), free_port()
    conf = os.path.join(work, "hermod.ini")
    with open(conf, "w") as f:
        f.write(f"[server]\ndata_dir = {work}/var\nlog_file = {work}/log\nlog_level = warning\n"
                f"create_demo_user = no\ndefault_domain = {DOMAIN}\n"
                "max_connections_per_ip = 0\n"
                "[store]\ndurability = normal\n"
                f"[http]\nlisten = 127.0.0.1:{http_port}\nlisten_tls =\n"
                f"[imap]\nlisten = 127.0.0.1:{imap_port}\nlisten_tls =\n")
    # every other listener off (their default ports may be taken here)
    out = subprocess.run([binary, "help", "config"], check=True, capture_output=True,
                         text=True).stdout
    section, off = None, {}
    for line in out.splitlines():
        m = re.match(r"^\[(\w+)\]$", line)
        if m:
            section = m.group(1)
        m = re.match(r"^;?(listen\w*) =", line)
        if m and section not in (None, "http", "imap"):
            off.setdefault(section, []).append(m.group(1))
    with open(conf, "a") as f:
        for sec, names in off.items():
            f.write(f"[{sec}]\n" + "".join(f"{n} =\n" for n in names))
    subprocess.run([binary, "-c", conf, "domain", "add", DOMAIN], check=True,
                   capture_output=True)
    subprocess.run([binary, "-c", conf, "user", "add", USER, "--password", PASSWORD],
                   check=True, capture_output=True)
    proc = subprocess.Popen([binary, "-c", conf, "serve"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", http_port)).close()
                socket.create_connection(("127.0.0.1", imap_port)).close()
                break
            except OSError:
                time.sleep(0.05)
        t = time.time()
        fill(imap_port, a.messages)
        print(f"ews: {a.messages} messages in the Inbox in {time.time() - t:.0f}s", flush=True)
        # warm: the first FindItem sorts a cold table
        Ews(http_port).post(FIND)
        per = [a.clients // a.procs + (1 if k < a.clients % a.procs else 0)
               for k in range(a.procs)]
        with mp.Pool(a.procs) as pool:
            res = pool.map(client_proc, [(http_port, n, a.seconds) for n in per if n > 0])
        lat = [x for r in res for x in r[0]]
        items = sum(r[1] for r in res)
        cpu = sum(r[2] for r in res)
        print(f"ews: {a.clients} clients, {len(lat)} FindItem + {len(lat)} GetItem in "
              f"{a.seconds:.0f}s; client CPU {cpu:.0%} of one core", flush=True)
        print(f"ews: finditem_p50_ms={pct(lat, 50) * 1000:.1f} "
              f"finditem_p99_ms={pct(lat, 99) * 1000:.1f} "
              f"getitem_per_s={items / a.seconds:.0f}", flush=True)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"ews: kept {work}", file=sys.stderr)


if __name__ == "__main__":
    main()
