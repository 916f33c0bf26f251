#!/usr/bin/env bash
# Builds a real Argo CD (github.com/argoproj/argo-cd/v3, pinned below) from its
# Go module for the project's tests, into
#   ${HNP_CACHE_DIR:-$HOME/.cache/hnp-sidecar}/cluster/argocd-$VERSION/
#     bin/argocd                          the one binary (cmd/main.go); its role is
#     bin/argocd-application-controller   the name it runs under, hence
#     bin/argocd-repo-server              these three symlinks
#     bin/argocd-server
#     bin/git-verify-wrapper.sh           hack/git-verify-wrapper.sh, executable; the
#                                         repo-server runs it from PATH for every
#                                         manifest generation
#     module-dir                          the module's directory in the Go module
#                                         cache (manifests/crds, manifests/install.yaml
#                                         are read from there at run time)
# Skips everything when it is already there (a lock makes parallel runs wait).
# Afterwards nothing the tests run needs the network.
#
# Argo CD v3.6 needs Go 1.27: the Go module proxy serves that toolchain and
# GOTOOLCHAIN selects it for this build alone (the project stays on Go 1.26).
# The build is a throw-away wrapper module that requires Argo CD and copies its
# replace block (minus gitops-engine => ./gitops-engine, which the module zip
# cannot satisfy; the tagged gitops-engine of the same release is used).
# Cold: a few minutes and ~3 GB of memory; prints both.
set -euo pipefail

VERSION=${HNP_ARGOCD_VERSION:-v3.6.1}
TOOLCHAIN=${HNP_ARGOCD_GOTOOLCHAIN:-go1.27.3}
MODULE=github.com/argoproj/argo-cd/v3
CACHE=${HNP_CACHE_DIR:-$HOME/.cache/hnp-sidecar}
DIR=$CACHE/cluster/argocd-$VERSION
BIN=$DIR/bin

mkdir -p "$CACHE/cluster"
exec 9>"$CACHE/cluster/.argocd-$VERSION.lock"
flock 9

complete() {
  [[ -x $BIN/argocd && -x $BIN/git-verify-wrapper.sh && -s $DIR/module-dir ]] || return 1
  local m
  m=$(cat "$DIR/module-dir")
  [[ -f $m/manifests/install.yaml && -f $m/manifests/crds/application-crd.yaml ]]
}
if complete; then
  echo "argocd $VERSION: already built in $DIR"
  exit 0
fi

if [[ ! -x /usr/bin/time ]]; then
  echo "installing Debian's time (for peak memory)..."
  (apt-get install -y -qq time || (apt-get update -qq && apt-get install -y -qq time)) >/dev/null
fi

export GOTOOLCHAIN=$TOOLCHAIN GOFLAGS=-mod=mod
info=$(go mod download -json "$MODULE@$VERSION")
moddir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$info")
[[ -n $moddir && -f $moddir/go.mod ]] || { echo "build-argocd: $MODULE@$VERSION not in the module cache: $info" >&2; exit 1; }

work=$DIR/build
rm -rf "$work" && mkdir -p "$work" "$BIN"
{
  echo "module hnp-sidecar.test/argocd-build"
  echo
  grep -m1 '^go ' "$moddir/go.mod"
  echo
  # The replace block(s) of Argo CD's go.mod, without local-path replacements.
  awk '
    /^replace \($/ { inblock = 1; print; next }
    inblock && /^\)$/ { inblock = 0; print; next }
    /^replace / { if ($0 !~ /=> \.\.?\//) print; next }
    inblock { if ($0 !~ /=> \.\.?\//) print; next }
  ' "$moddir/go.mod"
} >"$work/go.mod"
printf 'package main\n' >"$work/main.go"

used_kib() { awk '/^MemTotal:/ {t = $2} /^MemAvailable:/ {a = $2} END {print t - a}' /proc/meminfo; }
base=$(used_kib)
( peak=0; while sleep 0.5; do u=$(used_kib); ((u > peak)) && peak=$u && echo "$peak" >"$DIR/build-mem-peak"; done ) &
sampler=$!
trap 'kill "$sampler" 2>/dev/null || true' EXIT

echo "building argocd $VERSION with $TOOLCHAIN (cold: a few minutes, ~3 GB)..."
start=$(date +%s)
(
  cd "$work"
  go get "$MODULE/cmd@$VERSION"
  /usr/bin/time -v -o "$DIR/build-time.txt" \
    go build -trimpath -ldflags "-s -w -X github.com/argoproj/argo-cd/v3/common.version=${VERSION#v}" \
    -o "$BIN/argocd.new" "$MODULE/cmd"
)
end=$(date +%s)
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
mv "$BIN/argocd.new" "$BIN/argocd"
for role in argocd-application-controller argocd-repo-server argocd-server; do
  ln -sfn argocd "$BIN/$role"
done
install -m 0755 "$moddir/hack/git-verify-wrapper.sh" "$BIN/git-verify-wrapper.sh"
printf '%s\n' "$moddir" >"$DIR/module-dir"
rm -rf "$work"

rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$DIR/build-time.txt")
peak=$(cat "$DIR/build-mem-peak" 2>/dev/null || echo "$base")
{
  echo "argocd $VERSION built with $TOOLCHAIN on $(nproc) CPUs: $((end - start)) s (download, go get and build)"
  echo "  go build: $(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$DIR/build-time.txt") wall (/usr/bin/time -v: $DIR/build-time.txt)"
  echo "  peak memory: machine $(((peak - base) / 1024)) MiB over the baseline; largest single process $((rss / 1024)) MiB"
} | tee "$DIR/build-summary.txt"
