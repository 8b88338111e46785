#!/bin/sh
# Provisions a PHP host for devsys deploys: the deploy user, its authorized key, and the root
# folder apps are deployed under. Run as root on the host. Idempotent: running it again changes
# nothing but a missing key line or wrong permissions.
#
#   provision-host.sh USER PUBKEY_FILE [ROOT]      (ROOT defaults to /srv/devsys)
#
# Then install deploy/sshd_config.template as sshd's configuration and reload sshd.
set -eu

usage() {
    echo "usage: $0 USER PUBKEY_FILE [ROOT]" >&2
    echo "  USER         the account devsys logs in as (e.g. deploy)" >&2
    echo "  PUBKEY_FILE  its public key (ssh-ed25519 or ecdsa-sha2-*; RSA is refused by libssh2 1.10)" >&2
    echo "  ROOT         folder apps are deployed under (default /srv/devsys)" >&2
    exit 2
}

[ $# -ge 2 ] && [ $# -le 3 ] || usage
user=$1
keyfile=$2
root=${3:-/srv/devsys}

case $user in
    ''|*[!a-z0-9_-]*|-*) echo "$0: '$user' is not a plain user name (a-z, 0-9, _ and -)" >&2; exit 2 ;;
esac
[ -f "$keyfile" ] && [ -s "$keyfile" ] || { echo "$0: no public key at '$keyfile'; refusing to create a user without one" >&2; exit 1; }
key=$(grep -E '^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh.com) ' "$keyfile" | head -n 1 || true)
if [ -z "$key" ]; then
    echo "$0: '$keyfile' holds no ed25519 or ECDSA public key (RSA keys cannot be used with libssh2 1.10)" >&2
    exit 1
fi
case $root in
    /*) ;;
    *) echo "$0: ROOT must be an absolute path, not '$root'" >&2; exit 2 ;;
esac
[ "$(id -u)" -eq 0 ] || { echo "$0: run as root" >&2; exit 1; }

if ! id "$user" >/dev/null 2>&1; then
    # A login shell is needed: the deploy agent runs `sh -c` commands over exec channels.
    useradd --create-home --shell /bin/sh "$user"
fi
# No password, but not a locked account: '*' matches no password, while the '!' that useradd
# leaves makes sshd refuse even key logins when it runs without PAM (UsePAM no).
case $(getent shadow "$user" | cut -d: -f2) in
    '!'*|'') usermod -p '*' "$user" ;;
esac
home=$(getent passwd "$user" | cut -d: -f6)
group=$(id -gn "$user")

install -d -m 0700 -o "$user" -g "$group" "$home/.ssh"
touch "$home/.ssh/authorized_keys"
grep -qxF "$key" "$home/.ssh/authorized_keys" || printf '%s\n' "$key" >> "$home/.ssh/authorized_keys"
chown "$user:$group" "$home/.ssh/authorized_keys"
chmod 0600 "$home/.ssh/authorized_keys"

install -d -m 0755 -o "$user" -g "$group" "$root"

echo "provisioned: user $user, key $(echo "$key" | cut -d' ' -f1), root $root"
