#!/usr/bin/env bash
# Installs the Debian packages hermod needs to build, test and run.
# Idempotent: does nothing when everything is present. As root it runs
# apt-get; otherwise it prints the exact command and fails.
set -euo pipefail

# What `make`, `make test` and `make run` need.
PKGS=(
	build-essential meson ninja-build pkg-config clang libclang-rt-14-dev
	libevent-dev libssl-dev libsqlite3-dev libxml2-dev libxml2-utils
	libgmime-3.0-dev libical-dev libcrypt-dev libc-ares-dev libinih-dev
	zlib1g-dev libcmocka-dev libglib2.0-dev libhttp-parser-dev
	openssl curl python3 python3-pytest python3-exchangelib python3-impacket
	swaks tnef isync python3-aiosmtpd python3-lxml python3-dnspython
)

# What only `make bench-*` needs (the peers we compare against).
if [ "${1:-}" = "--bench" ]; then
	PKGS+=(postfix dovecot-imapd dovecot-pop3d)
fi

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "hermod needs these Debian packages; run as root:" >&2
	echo "  apt-get update && $cmd" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Postfix asks how to configure itself; the bench configures its own instance.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -q || true
apt-get install -y -q --no-install-recommends "${missing[@]}"
