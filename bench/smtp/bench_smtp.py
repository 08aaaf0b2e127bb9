#!/usr/bin/python3
"""make bench-smtp: hermod's inbound SMTP against Postfix on the same
machine in the same run (shared/BENCHMARKS.md).

Load: Postfix's smtp-source, 10,000 messages of 10 KB over 20 concurrent
sessions to 100 local users (20 parallel workers; worker i sends 100
messages to each of the users i, i+20, ..., i+80 in turn, one smtp-source
run per user). The same load goes to:

- hermod (`hermod serve`, [store] durability = full: a 250 means the
  message is committed and fsynced in the recipient's mailbox), and
- a private Postfix instance on another loopback port, delivering through
  virtual(8) into Maildir (Postfix fsyncs the queue file before its 250
  and each Maildir file before it is renamed into new/).

For both the clock runs from the first connection until the last message
is in its mailbox (for Postfix, until new/ holds every file: its 250 only
means queued). Prints

    smtp: hermod_msgs_per_s=N postfix_msgs_per_s=N ratio=R

Everything lives under a temporary directory; both servers are stopped by
their own pid / stop command.
"""
import argparse
import os
import pwd
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOMAIN = "bench.test"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")


def find_smtp_source():
    for p in ("/usr/sbin/smtp-source", "/usr/bin/smtp-source"):
        if os.access(p, os.X_OK):
            return p
    p = shutil.which("smtp-source")
    if p:
        return p
    raise SystemExit("smtp-source not found: run scripts/deps.sh --bench (package postfix)")


def run_load(port, users, sessions, per_user, size):
    """Runs the load; returns the seconds from start to the last reply."""
    src = find_smtp_source()
    workers = []
    t0 = time.time()
    for w in range(sessions):
        targets = [users[i] for i in range(w, len(users), sessions)]
        script = " && ".join(
            f"{src} -l {size} -m {per_user} -s 1 -f sender@load.test -t {t} 127.0.0.1:{port}"
            for t in targets)
        workers.append(subprocess.Popen(["/bin/sh", "-c", script], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE))
    errors = []
    for p in workers:
        _, err = p.communicate()
        if p.returncode != 0:
            errors.append(err.decode(errors="replace")[-500:])
    elapsed = time.time() - t0
    if errors:
        raise SystemExit("smtp-source failed:\n" + "\n".join(errors[:3]))
    return t0, elapsed


# --- hermod ---

def hermod_bench(build, base, users, args):
    binary = os.path.join(ROOT, build, "src", "cmd", "hermod")
    d = os.path.join(base, "hermod")
    os.makedirs(d)
    port = free_port()
    conf = os.path.join(d, "hermod.ini")
    with open(conf, "w") as f:
        f.write(f"""[server]
data_dir = {d}/var
log_file = {d}/hermod.log
log_level = warning
hostname = bench-hermod.test
create_demo_user = no
max_connections_per_ip = 0
[auth]
password_hash_cost = 1
[store]
durability = full
[smtp]
listen = 127.0.0.1:{port}
listen_submission =
listen_submissions =
[transport]
resolver = 127.0.0.1:9
""")
        # Extra settings for experiments: --set section.name=value
        for kv in args.set:
            sec_name, value = kv.split("=", 1)
            sec, name = sec_name.split(".", 1)
            f.write(f"[{sec}]\n{name} = {value}\n")

    def cli(*a):
        subprocess.run([binary, "-c", conf, *a], check=True, stdout=subprocess.DEVNULL)

    cli("domain", "add", DOMAIN)
    for u in users:
        cli("user", "add", u, "--password", "Bench-password-1")
    proc = subprocess.Popen([binary, "-c", conf, "serve"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
    try:
        wait_port(port)
        t0, elapsed = run_load(port, users, args.sessions, args.per_user, args.size)
        # A 250 from hermod means delivered and durable: count to be sure.
        n = hermod_count(binary, conf, users)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    expected = len(users) * args.per_user
    if n != expected:
        raise SystemExit(f"hermod stored {n} messages, expected {expected}")
    return expected / elapsed, elapsed


def hermod_count(binary, conf, users):
    total = 0
    for u in users:
        out = subprocess.run([binary, "-c", conf, "user", "show", u], check=True,
                             capture_output=True, text=True).stdout
        guid = [ln.split()[-1] for ln in out.splitlines() if ln.startswith("mailbox guid")][0]
        data_dir = os.path.join(os.path.dirname(conf), "var")
        db = sqlite3.connect(f"file:{data_dir}/mailboxes/{guid}.db?mode=ro", uri=True)
        total += db.execute("SELECT n_msgs FROM folders WHERE special = 4").fetchone()[0]
        db.close()
    return total


# --- Postfix ---

def postfix_bench(base, users, args):
    d = os.path.join(base, "postfix")
    conf, spool, data = (os.path.join(d, x) for x in ("etc", "spool", "lib"))
    maildir = os.path.join(d, "maildir")
    for x in (conf, spool, data, maildir):
        os.makedirs(x)
    nobody = pwd.getpwnam("nobody")
    os.chown(maildir, nobody.pw_uid, nobody.pw_gid)
    port = free_port()
    with open(os.path.join(conf, "main.cf"), "w") as f:
        f.write(f"""compatibility_level = 3.6
queue_directory = {spool}
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = bench-postfix.test
mydestination =
mynetworks = 127.0.0.0/8
relayhost =
local_transport = error:local delivery is off
alias_maps =
alias_database =
virtual_mailbox_domains = {DOMAIN}
virtual_mailbox_base = {maildir}
virtual_mailbox_maps = hash:{conf}/vmailbox
virtual_uid_maps = static:{nobody.pw_uid}
virtual_gid_maps = static:{nobody.pw_gid}
virtual_minimum_uid = 1
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
default_process_limit = 200
maillog_file_prefixes = /var, /dev/stdout, {base}
maillog_file = {d}/postfix.log
""")
    with open(os.path.join(conf, "vmailbox"), "w") as f:
        for u in users:
            f.write(f"{u} {DOMAIN}/{u.split('@')[0]}/\n")
    # The package's master.cf with smtpd moved to our port, postlog on.
    master = open("/usr/share/postfix/master.cf.dist").read() \
        if os.path.exists("/usr/share/postfix/master.cf.dist") else open("/etc/postfix/master.cf").read()
    lines = []
    for ln in master.splitlines():
        if ln.startswith("smtp ") and " inet " in ln:
            ln = ln.replace("smtp ", f"127.0.0.1:{port} ", 1)
        lines.append(ln)
    if not any(ln.startswith("postlog") for ln in lines):
        lines.append("postlog   unix-dgram n  -       n       -       1       postlogd")
    open(os.path.join(conf, "master.cf"), "w").write("\n".join(lines) + "\n")
    env = dict(os.environ, MAIL_CONFIG=conf)
    subprocess.run(["postmap", os.path.join(conf, "vmailbox")], check=True, env=env)
    subprocess.run(["postfix", "-c", conf, "set-permissions"], env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["postfix", "-c", conf, "start"], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_port(port)
        t0, _ = run_load(port, users, args.sessions, args.per_user, args.size)
        expected = len(users) * args.per_user
        deadline = time.time() + 600
        while True:
            n = sum(len(os.listdir(os.path.join(maildir, DOMAIN, u.split("@")[0], "new")))
                    for u in users
                    if os.path.isdir(os.path.join(maildir, DOMAIN, u.split("@")[0], "new")))
            if n >= expected:
                break
            if time.time() > deadline:
                raise SystemExit(f"postfix delivered {n} of {expected}")
            time.sleep(0.05)
        elapsed = time.time() - t0
    finally:
        subprocess.run(["postfix", "-c", conf, "stop"], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return expected / elapsed, elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--users", type=int, default=100)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--per-user", type=int, default=100)
    ap.add_argument("--size", type=int, default=10240)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--only", choices=["hermod", "postfix"])
    ap.add_argument("--set", action="append", default=[],
                    help="extra hermod setting, section.name=value (repeatable)")
    args = ap.parse_args()
    base = tempfile.mkdtemp(prefix="hermod-bench-smtp-")
    os.chmod(base, 0o755)
    users = [f"u{i}@{DOMAIN}" for i in range(args.users)]
    try:
        if args.only != "postfix":
            h_rate, h_s = hermod_bench(args.build, base, users, args)
            print(f"hermod:  {len(users) * args.per_user} messages in {h_s:.1f} s", flush=True)
        if args.only != "hermod":
            p_rate, p_s = postfix_bench(base, users, args)
            print(f"postfix: {len(users) * args.per_user} messages in {p_s:.1f} s", flush=True)
        if args.only:
            return 0
        print(f"smtp: hermod_msgs_per_s={h_rate:.0f} postfix_msgs_per_s={p_rate:.0f} "
              f"ratio={h_rate / p_rate:.2f}")
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
