#!/usr/bin/env bash
# Runs a command in a fresh, private network namespace whose only interface is
# the loopback (brought up), so that whatever it starts can reach nothing but
# itself, and a server that listens on every interface (Argo CD's
# application-controller metrics port has no address flag) is still only
# reachable from inside. The namespace goes away with the command's last
# process; nothing is left behind.
#
#   test/cluster/in-netns.sh COMMAND [ARG...]
#
# There is no network inside: build and download everything first
# (test/cluster/build.sh, test/cluster/build-argocd.sh, `go test -c`,
# redis-server and git installed), then run the compiled test binary here:
#
#   test/cluster/build.sh && test/cluster/build-argocd.sh
#   go test -c -o /tmp/argocdenv.test ./internal/testenv/argocd
#   test/cluster/in-netns.sh /tmp/argocdenv.test -test.v
#
# Needs root (or an unprivileged user namespace: set HNP_NETNS_USERNS=1 to add
# --map-root-user) and unshare(1) and ip(8).
set -euo pipefail

if [[ $# -eq 0 ]]; then
  echo "usage: $0 COMMAND [ARG...]" >&2
  exit 2
fi
command -v unshare >/dev/null || { echo "in-netns: unshare(1) not found (util-linux)" >&2; exit 1; }
command -v ip >/dev/null || { echo "in-netns: ip(8) not found (iproute2)" >&2; exit 1; }

userns=()
if [[ ${HNP_NETNS_USERNS:-} == 1 ]]; then
  userns=(--user --map-root-user)
fi

# The namespace lives as long as the processes in it; the command is exec'd
# so signals reach it directly. HNP_IN_NETNS tells the tests where they are.
exec unshare "${userns[@]}" --net -- sh -c 'ip link set lo up && HNP_IN_NETNS=1 exec "$@"' in-netns "$@"
