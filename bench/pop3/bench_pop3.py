#!/usr/bin/python3
"""make bench-pop3: 100 users x 100 messages; each client session logs in,
LISTs, RETRs every message and QUITs. The same load (bench/pop3/pop3_load.c,
4 concurrent clients) runs against hermod and against Dovecot's POP3 on other
loopback ports in the same run; prints

    pop3: hermod_msgs_per_s=N dovecot_msgs_per_s=N ratio=R

Fairness (../shared/BENCHMARKS.md): Dovecot gets its documented
high-performance process settings, Maildir with the same message files
(CRLF, ,S= sizes in the names), a passwd-file with {PLAIN} passwords (its
cheapest login; BENCH_DOVECOT_HASH=yescrypt gives it the very yescrypt hashes
hermod stores instead), and an auth cache as hermod has one. A warm-up pass logs every
user in once on both (caches, indexes, page cache), then the measured passes
alternate between the servers and the best of each is reported.

Environment: BENCH_USERS (100), BENCH_MESSAGES (100), BENCH_CLIENTS (4),
BENCH_ROUNDS (sessions per user in a measured pass, 2), BENCH_TRIALS (2),
HERMOD_BUILD (build).
"""
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.abspath(os.environ.get("HERMOD_BUILD", os.path.join(ROOT, "build")))
HERMOD = os.path.join(BUILD, "src", "cmd", "hermod")
FILL = os.path.join(BUILD, "tests", "unit", "proto", "pop3", "hermod-test-fill")
LOAD = os.path.join(BUILD, "bench", "pop3-load")
USERS = int(os.environ.get("BENCH_USERS", 100))
MESSAGES = int(os.environ.get("BENCH_MESSAGES", 100))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", 4))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 2))
TRIALS = int(os.environ.get("BENCH_TRIALS", 2))
# Dovecot's auth cache keeps the hash and verifies every login against it
# (yescrypt, ~80 ms), while hermod's skips the hash for a password it
# verified recently. "plain" (the default) gives Dovecot {PLAIN} passwords,
# its cheapest login, so that the figure compares serving mail, not hashing;
# "yescrypt" gives it the very hashes hermod stores.
DOVECOT_HASH = os.environ.get("BENCH_DOVECOT_HASH", "plain")
# hermod's threads: one event loop and two workers on this 2-core machine
# (each command is handed from the loop to a worker and back; fewer threads
# mean fewer context switches). 0 0 gives hermod's defaults.
EVENT_THREADS = int(os.environ.get("BENCH_EVENT_THREADS", 1))
WORKER_THREADS = int(os.environ.get("BENCH_WORKER_THREADS", 2))
DOMAIN, PASSWORD = "bench.test", "bench-password"
# Message sizes cycle through these (mean about 10 KB).
SIZES = [1500, 3000, 6000, 12000, 24000, 16000]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, proc, what, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"bench-pop3: {what} exited {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"bench-pop3: {what} does not listen on {port}")


def message(i):
    size = SIZES[i % len(SIZES)]
    head = (f"From: Sender <sender@{DOMAIN}>\r\nTo: <user@{DOMAIN}>\r\n"
            f"Subject: bench message {i}\r\nDate: Mon, 2 Jan 2006 15:04:05 +0000\r\n"
            f"Message-ID: <bench.{i}@{DOMAIN}>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n\r\n").encode()
    body, n = [], 0
    while len(head) + sum(map(len, body)) < size:
        body.append(b".a line that starts with a dot\r\n" if n % 10 == 3 else
                    b"line %d of message %d: the quick brown fox jumps over the lazy dog\r\n"
                    % (n, i))
        n += 1
    return head + b"".join(body)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def load(port, rounds):
    out = run([LOAD, "127.0.0.1", str(port), "u", DOMAIN, str(USERS), PASSWORD, str(CLIENTS),
               str(rounds)], timeout=3600).stdout.strip()
    fields = dict(kv.split("=") for kv in out.split())
    if int(fields["errors"]) or int(fields["msgs"]) != USERS * MESSAGES * rounds:
        sys.exit(f"bench-pop3: load failed: {out}")
    return float(fields["msgs_per_s"]), out


def main():
    for f in (HERMOD, FILL, LOAD):
        if not os.path.exists(f):
            sys.exit(f"bench-pop3: {f} missing: run make first")
    if not os.path.exists("/usr/sbin/dovecot") or \
            not os.path.exists("/usr/lib/dovecot/pop3"):
        sys.exit("bench-pop3: Dovecot's POP3 is missing: scripts/deps.sh --bench")
    tmp = tempfile.mkdtemp(prefix="hermod-bench-pop3-")
    os.chmod(tmp, 0o755)
    procs = []
    try:
        msgdir = os.path.join(tmp, "messages")
        os.mkdir(msgdir)
        files = []
        for i in range(MESSAGES):
            p = os.path.join(msgdir, f"{i:04d}.eml")
            with open(p, "wb") as f:
                f.write(message(i))
            files.append(p)

        # --- hermod ---
        hport = free_port()
        hdir = os.path.join(tmp, "hermod")
        os.mkdir(hdir)
        conf = os.path.join(hdir, "hermod.ini")
        listens = {}
        for line in run([HERMOD, "help", "config"]).stdout.splitlines():
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1]
            elif line.lstrip(";").startswith("listen"):
                listens.setdefault(section, []).append(line.lstrip(";").split()[0])
        with open(conf, "w") as f:
            f.write(f"[server]\ndata_dir = {hdir}/var\nlog_file = {hdir}/hermod.log\n"
                    "log_level = warning\ncreate_demo_user = no\n"
                    f"event_threads = {EVENT_THREADS}\nworker_threads = {WORKER_THREADS}\n")
            for sec, names in listens.items():
                f.write(f"[{sec}]\n")
                for n in names:
                    f.write(f"{n} = {'127.0.0.1:%d' % hport if (sec, n) == ('pop3', 'listen') else ''}\n")
        hc = [HERMOD, "-c", conf]
        run(hc + ["domain", "add", DOMAIN])
        print(f"bench-pop3: creating {USERS} users with {MESSAGES} messages each", flush=True)
        for u in range(1, USERS + 1):
            run(hc + ["user", "add", f"u{u}@{DOMAIN}", "--password", PASSWORD])
        run([FILL, f"{hdir}/var", "--users", "u", DOMAIN, str(USERS)] + files, timeout=3600)
        db = sqlite3.connect(f"{hdir}/var/directory.db")
        hashes = dict(db.execute("SELECT address, password_hash FROM recipients"))
        db.close()

        # --- Dovecot: the same messages in Maildir, the same hashes ---
        dport = free_port()
        ddir = os.path.join(tmp, "dovecot")
        for sub in ("run", "state", "mail"):
            os.makedirs(os.path.join(ddir, sub))
        with open(os.path.join(ddir, "passwd"), "w") as f:
            for u in range(1, USERS + 1):
                pw = ("{CRYPT}" + hashes[f"u{u}@{DOMAIN}"] if DOVECOT_HASH == "yescrypt"
                      else "{PLAIN}" + PASSWORD)
                f.write(f"u{u}@{DOMAIN}:{pw}::::::\n")
        for u in range(1, USERS + 1):
            cur = os.path.join(ddir, "mail", f"u{u}@{DOMAIN}", "Maildir", "cur")
            os.makedirs(cur)
            for d in ("new", "tmp"):
                os.makedirs(os.path.join(os.path.dirname(cur), d))
            for i, p in enumerate(files):
                os.link(p, os.path.join(
                    cur, f"{1136214245 + i}.M{i}P1.bench,S={os.path.getsize(p)}:2,S"))
        dconf = os.path.join(ddir, "dovecot.conf")
        with open(dconf, "w") as f:
            f.write(f"""base_dir = {ddir}/run
state_dir = {ddir}/state
log_path = {ddir}/dovecot.log
protocols = pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
auth_cache_size = 10M
auth_cache_ttl = 1 hour
auth_cache_verify_password_with_worker = yes
first_valid_uid = 1
mail_location = maildir:~/Maildir
pop3_uidl_format = %08Xu%08Xv
passdb {{
  driver = passwd-file
  args = scheme=CRYPT {ddir}/passwd
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={ddir}/mail/%u
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {dport}
  }}
  inet_listener pop3s {{
    port = 0
  }}
  service_count = 0
  process_min_avail = 2
  client_limit = 1000
}}
service pop3 {{
  service_count = 100
  process_min_avail = 4
}}
service auth {{
  client_limit = 4096
}}
""")
        # Dovecot's mail processes run as the dovecot user.
        os.chmod(msgdir, 0o755)
        run(["chown", "-R", "dovecot:dovecot", os.path.join(ddir, "mail"), msgdir])

        hproc = subprocess.Popen(hc + ["serve"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        procs.append(hproc)
        dproc = subprocess.Popen(["/usr/sbin/dovecot", "-F", "-c", dconf],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(dproc)
        wait_port(hport, hproc, "hermod")
        wait_port(dport, dproc, "dovecot")

        if os.environ.get("BENCH_KEEP"):
            print(f"bench-pop3: kept: hermod {hport} dovecot {dport} in {tmp} "
                  f"(pids {hproc.pid} {dproc.pid})", flush=True)
            return
        print("bench-pop3: warm-up pass on both", flush=True)
        load(hport, 1)
        load(dport, 1)
        best = {"hermod": 0.0, "dovecot": 0.0}
        for t in range(TRIALS):
            for name, port in (("hermod", hport), ("dovecot", dport)):
                rate, out = load(port, ROUNDS)
                print(f"bench-pop3: trial {t + 1} {name}: {out}", flush=True)
                best[name] = max(best[name], rate)
        ratio = best["hermod"] / best["dovecot"]
        print(f"bench-pop3: Dovecot passwords: {DOVECOT_HASH}", flush=True)
        print(f"pop3: hermod_msgs_per_s={best['hermod']:.0f} "
              f"dovecot_msgs_per_s={best['dovecot']:.0f} ratio={ratio:.2f}", flush=True)
    finally:
        if os.environ.get("BENCH_KEEP"):
            return
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
