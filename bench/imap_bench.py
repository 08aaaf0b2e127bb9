#!/usr/bin/python3
"""make bench-imap: the same IMAP workload against hermod and against a
Dovecot configured here (Maildir, passwd-file, the high-performance
process settings of shared/BENCHMARKS.md), both on loopback ports of
their own, each with the same users holding the same messages.

Operations (each measured for --seconds with --procs client processes):
  login    connect + LOGIN + SELECT INBOX + LOGOUT         (sessions/s)
  fetch    FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)      (messages/s)
  body     UID FETCH of full messages, BODY.PEEK[]          (messages/s)
  search   SEARCH TEXT <word>                               (searches/s)
  store    STORE n +FLAGS/-FLAGS (\\Flagged)                 (stores/s)
  append   APPEND of a 4 KB message                         (messages/s)
  idle     IDLE wake-up latency after another session's APPEND (ms, median)
Prints "imap: <op>_ratio=R" (hermod over Dovecot; for idle, Dovecot's
latency over hermod's, so higher is better everywhere) and
"imap: ratio=R", the geometric mean. The load generator is Python with
one process per core; when a figure is limited by the client it says so
(client CPU near 100%)."""
import argparse
import math
import multiprocessing as mp
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "bench-Password-1"
DOMAIN = "bench.test"
WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike "
         "november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee "
         "zulu meeting report budget invoice travel project review draft").split()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def make_messages(n, seed=1):
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        body_lines = [" ".join(rnd.choice(WORDS) for _ in range(12)) for _ in range(rnd.randint(10, 60))]
        if i % 50 == 0:
            body_lines.append("needle-%d special marker" % i)
        body = "\r\n".join(body_lines) + "\r\n"
        hdr = (f"From: Sender {i % 37} <sender{i % 37}@example.org>\r\n"
               f"To: Recipient <user@{DOMAIN}>\r\nCc: cc{i % 7}@example.net\r\n"
               f"Subject: {rnd.choice(WORDS)} {rnd.choice(WORDS)} message {i}\r\n"
               f"Date: Mon, {1 + i % 28} Jan 2024 10:{i % 60:02d}:00 +0000\r\n"
               f"Message-ID: <bench.{i}@example.org>\r\nMIME-Version: 1.0\r\n")
        if i % 10 == 0:
            att = "".join(rnd.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(3000))
            msg = (hdr + "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n" % i +
                   "--b%d\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" % i + body +
                   "--b%d\r\nContent-Type: application/octet-stream; name=f.bin\r\n"
                   "Content-Transfer-Encoding: base64\r\n\r\n" % i +
                   "\r\n".join(att[k:k + 76] for k in range(0, len(att), 76)) +
                   "\r\n--b%d--\r\n" % i)
        else:
            msg = hdr + "Content-Type: text/plain; charset=us-ascii\r\n\r\n" + body
        out.append(msg.encode())
    return out


# --- a small raw IMAP client (imaplib is slower than the servers) ---

class Client:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.n = 0
        self.readline()

    def readline(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                return line
            d = self.s.recv(262144)
            if not d:
                raise EOFError
            self.buf += d

    def read(self, n):
        while len(self.buf) < n:
            d = self.s.recv(262144)
            if not d:
                raise EOFError
            self.buf += d
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def response(self):
        """One response line with its literals."""
        line = self.readline()
        while line.endswith(b"}"):
            m = re.search(rb"\{(\d+)\}$", line)
            if not m:
                break
            self.read(int(m.group(1)))
            line = self.readline()
        return line

    def cmd(self, text, data=None):
        self.n += 1
        tag = b"a%d" % self.n
        self.s.sendall(tag + b" " + text + b"\r\n" + (data or b""))
        untagged = 0
        while True:
            line = self.response()
            if line.startswith(tag + b" "):
                if not line.startswith(tag + b" OK"):
                    raise RuntimeError(line.decode(errors="replace"))
                return untagged
            untagged += 1

    def login(self, user):
        self.cmd(b"LOGIN " + user.encode() + b" " + PASSWORD.encode())

    def close(self):
        try:
            self.s.sendall(b"z LOGOUT\r\n")
        except OSError:
            pass
        self.s.close()


def user_name(i):
    return f"u{i:03d}@{DOMAIN}"


# --- workers: each runs one operation for a time and returns its count ---

def worker(args):
    op, port, users, seconds, nmsgs, wid = args
    rnd = random.Random(wid)
    deadline = time.time() + seconds
    count = 0
    cpu0 = time.process_time()
    t0 = time.time()
    if op == "login":
        while time.time() < deadline:
            c = Client(port)
            c.login(user_name(rnd.choice(users)))
            c.cmd(b"SELECT INBOX")
            c.close()
            count += 1
    else:
        c = Client(port)
        c.login(user_name(users[wid % len(users)]))
        c.cmd(b"SELECT INBOX")
        while time.time() < deadline:
            if op == "fetch":
                count += c.cmd(b"FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)")
            elif op == "body":
                lo = rnd.randint(1, max(1, nmsgs - 50))
                count += c.cmd(b"UID FETCH %d:%d (BODY.PEEK[])" % (lo, lo + 49))
            elif op == "search":
                c.cmd(b"SEARCH TEXT needle-%d" % (50 * rnd.randint(0, nmsgs // 50 - 1)))
                count += 1
            elif op == "store":
                n = rnd.randint(1, nmsgs)
                c.cmd(b"STORE %d %sFLAGS.SILENT (\\Flagged)" % (n, b"+-"[count % 2:count % 2 + 1]))
                count += 1
            elif op == "append":
                msg = make_messages(1, seed=count + 1000 * wid)[0]
                c.cmd(b"APPEND Bench {%d+}\r\n" % len(msg) + msg)
                count += 1
        c.close()
    elapsed = time.time() - t0
    return count, (time.process_time() - cpu0) / elapsed


def run_op(op, port, users, seconds, procs, nmsgs):
    with mp.Pool(procs) as pool:
        res = pool.map(worker, [(op, port, users, seconds, nmsgs, w) for w in range(procs)])
    total = sum(r[0] for r in res)
    client_cpu = sum(r[1] for r in res) / procs
    return total / seconds, client_cpu


def idle_latency(port, user, rounds=15):
    a = Client(port)
    a.login(user)
    a.cmd(b"SELECT INBOX")
    b = Client(port)
    b.login(user)
    lat = []
    msg = make_messages(1, seed=99)[0]
    for _ in range(rounds):
        a.n += 1
        tag = b"i%d" % a.n
        a.s.sendall(tag + b" IDLE\r\n")
        while not a.readline().startswith(b"+"):
            pass
        t0 = time.time()
        b.cmd(b"APPEND INBOX {%d+}\r\n" % len(msg) + msg)
        while True:
            line = a.readline()
            if line.endswith(b"EXISTS"):
                break
        lat.append(time.time() - t0)
        a.s.sendall(b"DONE\r\n")
        while not a.readline().startswith(tag):
            pass
    a.close()
    b.close()
    return statistics.median(lat) * 1000


# --- the servers ---

def start_hermod(work, users, msgs, procs):
    hdir = os.path.join(work, "hermod")
    os.makedirs(hdir)
    port = free_port()
    conf = os.path.join(hdir, "hermod.ini")
    with open(conf, "w") as f:
        f.write(f"[server]\ndata_dir = {hdir}/var\nlog_file = {hdir}/log\nlog_level = warning\n"
                f"create_demo_user = no\ndefault_domain = {DOMAIN}\n"
                f"max_connections_per_ip = 0\n"
                f"[store]\ndurability = normal\n"
                f"[imap]\nlisten = 127.0.0.1:{port}\nlisten_tls =\n")
    binary = os.path.join(ROOT, os.environ.get("BUILD", "build"), "src", "cmd", "hermod")
    # Every other service's listeners off (their default ports may be
    # taken on this machine).
    out = subprocess.run([binary, "help", "config"], check=True, capture_output=True,
                         text=True).stdout
    section, off = None, {}
    for line in out.splitlines():
        m = re.match(r"^\[(\w+)\]$", line)
        if m:
            section = m.group(1)
        m = re.match(r"^;?(listen\w*) =", line)
        if m and section and section != "imap":
            off.setdefault(section, []).append(m.group(1))
    with open(conf, "a") as f:
        for sec, names in off.items():
            f.write(f"[{sec}]\n" + "".join(f"{n} =\n" for n in names))
    subprocess.run([binary, "-c", conf, "domain", "add", DOMAIN], check=True,
                   capture_output=True)
    for u in users:
        subprocess.run([binary, "-c", conf, "user", "add", user_name(u), "--password", PASSWORD],
                       check=True, capture_output=True)
    proc = subprocess.Popen([binary, "-c", conf, "serve"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            break
        except OSError:
            time.sleep(0.05)
    # The messages go in through APPEND (MULTIAPPEND with LITERAL+).
    with mp.Pool(procs) as pool:
        pool.map(hermod_fill, [(port, u, msgs) for u in users])
    db = sqlite3.connect(os.path.join(hdir, "var", "directory.db"))
    hashes = dict(db.execute("SELECT address, password_hash FROM recipients"))
    db.close()
    return proc, port, hashes


def hermod_fill(args):
    port, u, msgs = args
    c = Client(port)
    c.login(user_name(u))
    c.cmd(b"CREATE Bench")
    for k in range(0, len(msgs), 50):
        parts = b"".join(b" {%d+}\r\n" % len(m) + m for m in msgs[k:k + 50])
        c.cmd(b"APPEND INBOX" + parts)
    c.close()


def start_dovecot(work, users, msgs, hashes):
    ddir = os.path.join(work, "dovecot")
    os.makedirs(ddir)
    port = free_port()
    with open(os.path.join(ddir, "passwd"), "w") as f:
        for u in users:
            f.write(f"{user_name(u)}:{{CRYPT}}{hashes[user_name(u)]}\n")
    uid, gid = os.getuid(), os.getgid()
    if uid == 0:
        # Dovecot will not keep mail as root: the Debian "mail" user does.
        import pwd
        pw = pwd.getpwnam("mail")
        uid, gid = pw.pw_uid, pw.pw_gid
    conf = os.path.join(ddir, "dovecot.conf")
    with open(conf, "w") as f:
        f.write(f"""base_dir = {ddir}/run
state_dir = {ddir}/state
log_path = {ddir}/log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# hermod caches verified passwords ([auth] cache_size, cache_ttl 1h);
# Dovecot gets its own auth cache with the same TTL.
auth_cache_size = 10M
auth_cache_ttl = 1 hour
mail_location = maildir:{ddir}/mail/%u/Maildir
mail_uid = {uid}
mail_gid = {gid}
first_valid_uid = 0
default_login_user = dovenull
default_internal_user = dovecot
passdb {{
  driver = passwd-file
  args = {ddir}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={ddir}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  service_count = 0
  process_min_avail = 2
  client_limit = 1000
}}
service imap {{
  service_count = 100
  process_min_avail = 10
}}
service auth {{
  client_limit = 4096
}}
service anvil {{
  chroot =
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Bench {{
    auto = create
  }}
}}
""")
    for u in users:
        md = os.path.join(ddir, "mail", user_name(u), "Maildir")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(md, sub))
        for i, m in enumerate(msgs):
            with open(os.path.join(md, "cur", f"{1700000000 + i}.M{i}P1.bench:2,"), "wb") as f:
                f.write(m)
    for dirpath, dirnames, filenames in os.walk(os.path.join(ddir, "mail")):
        os.chown(dirpath, uid, gid)
        for fn in filenames:
            os.chown(os.path.join(dirpath, fn), uid, gid)
    os.chown(os.path.join(ddir, "mail"), uid, gid)
    proc = subprocess.Popen(["/usr/sbin/dovecot", "-F", "-c", conf], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc, port


def warm(port, users, procs):
    """One SELECT and a FETCH per user so that both servers have built
    their indexes before anything is measured."""
    with mp.Pool(procs) as pool:
        pool.map(warm_one, [(port, u) for u in users])


def warm_one(args):
    port, u = args
    c = Client(port)
    c.login(user_name(u))
    c.cmd(b"SELECT INBOX")
    c.cmd(b"FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)")
    c.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=int(os.environ.get("BENCH_USERS", 100)))
    ap.add_argument("--messages", type=int, default=int(os.environ.get("BENCH_MESSAGES", 1000)))
    ap.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", 8)))
    ap.add_argument("--procs", type=int, default=int(os.environ.get("BENCH_PROCS", 4)))
    ap.add_argument("--ops", default="login,fetch,body,search,store,append,idle")
    a = ap.parse_args()
    if not os.path.exists("/usr/sbin/dovecot"):
        sys.exit("dovecot is not installed: run scripts/deps.sh --bench")
    work = tempfile.mkdtemp(prefix="hermod-bench-imap-")
    os.chmod(work, 0o755)  # Dovecot's auth process reads the passwd file as its own user
    users = list(range(a.users))
    msgs = make_messages(a.messages)
    procs = []
    try:
        t = time.time()
        hproc, hport, hashes = start_hermod(work, users, msgs, a.procs)
        procs.append(hproc)
        print(f"hermod: {a.users} users x {a.messages} messages appended in "
              f"{time.time() - t:.0f}s", flush=True)
        dproc, dport = start_dovecot(work, users, msgs, hashes)
        procs.append(dproc)
        warm(hport, users, a.procs)
        warm(dport, users, a.procs)
        ratios = {}
        for op in a.ops.split(","):
            if op == "idle":
                h = idle_latency(hport, user_name(0))
                d = idle_latency(dport, user_name(0))
                ratios[op] = d / h if h > 0 else 0
                print(f"imap: idle hermod={h:.2f}ms dovecot={d:.2f}ms "
                      f"idle_ratio={ratios[op]:.2f}", flush=True)
                continue
            h, hcpu = run_op(op, hport, users, a.seconds, a.procs, a.messages)
            d, dcpu = run_op(op, dport, users, a.seconds, a.procs, a.messages)
            ratios[op] = h / d if d > 0 else 0
            note = ""
            if max(hcpu, dcpu) > 0.9:
                note = f" (client CPU {hcpu:.0%}/{dcpu:.0%}: the client may be the limit)"
            print(f"imap: {op} hermod={h:.0f}/s dovecot={d:.0f}/s {op}_ratio={ratios[op]:.2f}"
                  f"{note}", flush=True)
        geo = math.exp(sum(math.log(max(r, 1e-6)) for r in ratios.values()) / len(ratios))
        print(f"imap: ratio={geo:.2f}", flush=True)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
