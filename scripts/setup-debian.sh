#!/usr/bin/env bash
# Installs what the test suites need on a fresh Debian 12 machine (run as root).
set -euo pipefail
# docker.io (dockerd 20.10), docker-compose (1.29) and python3-docker are the differential suites' peers and clients.
# gcc + libc6-dev build the static probe the security suite runs inside containers (test/integration/security/probe.c).
pkgs=(docker-registry busybox-static skopeo umoci nftables iptables iproute2 util-linux procps ca-certificates docker.io docker-compose python3-docker runc crun gcc libc6-dev)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# Debian's docker.io brings /usr/bin/docker (20.10); a newer CLI at /usr/local/bin/docker, where present, comes first in PATH.
# Tests start their own dockerd on their own socket and data root; the packaged service stays stopped.
systemctl stop docker.service docker.socket containerd 2>/dev/null || true
# The Debian package starts a registry on :5000; tests start their own on random ports.
systemctl stop docker-registry 2>/dev/null || true
