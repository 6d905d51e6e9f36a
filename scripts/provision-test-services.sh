#!/usr/bin/env bash
# Install the Debian packages the real-service tests need, when root and when missing.
# Without root, say loudly which tests will skip; under CI=true the tests themselves fail instead.
set -euo pipefail
# WeasyPrint (report.pdf) needs Pango and a CJK font; the report test renders in chromium.
PACKAGES=(openssh-server openssh-client prometheus prometheus-alertmanager restic
          postgresql mariadb-server mariadb-client nftables iproute2 iputils-ping systemd
          libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-wqy-zenhei chromium)
missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "provision: all test service packages present"
elif [ "$(id -u)" -eq 0 ]; then
  echo "provision: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "provision: NOT ROOT, cannot install: ${missing[*]}" >&2
  echo "provision: tests that need these services will skip (and fail under CI=true)" >&2
fi
# sshd refuses to start without its privilege-separation directory.
if [ "$(id -u)" -eq 0 ]; then mkdir -p /run/sshd; fi
