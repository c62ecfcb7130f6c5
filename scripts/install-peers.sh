#!/bin/sh
# install-peers.sh installs the real DNS software the interoperability tests
# run against, when any of it is missing. It needs root (or sudo) and the
# Debian package archive; it does nothing when everything is present.
set -eu

PACKAGES="unbound nsd knot knot-dnsutils bind9 bind9-dnsutils bind9-utils ldnsutils dnsperf curl"
# One binary per package, to decide whether the package is installed.
BINARIES="unbound nsd knotd kdig named dig delv dnssec-signzone named-checkzone ldns-verify-zone dnsperf curl"

missing=""
for b in $BINARIES; do
	if ! command -v "$b" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$b" ]; then
		missing="$missing $b"
	fi
done
if [ -z "$missing" ]; then
	exit 0
fi
echo "install-peers: missing:$missing; installing: $PACKAGES" >&2

SUDO=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=sudo
	else
		echo "install-peers: not root and no sudo; peer tests will skip (or fail with REQUIRE_PEERS=1)" >&2
		exit 0
	fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# policy-rc.d keeps the freshly installed daemons from starting and taking port 53.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod +x /usr/sbin/policy-rc.d
	trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
