#!/usr/bin/env bash
# Installs what the test suites need on a fresh Debian 12 machine (run as root).
set -euo pipefail
pkgs=(docker-registry busybox-static skopeo umoci nftables iptables iproute2 util-linux procps ca-certificates)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The docker CLI (a test client only) is not installed here: suites that need it skip with a reason.
# The Debian package starts a registry on :5000; tests start their own on random ports.
systemctl stop docker-registry 2>/dev/null || true
