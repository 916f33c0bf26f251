#!/usr/bin/env bash
# Builds the two binaries of a real Kubernetes API server for the tests,
# from source through the Go module proxy: etcd and kube-apiserver, at pinned
# versions, into ${HNP_CACHE_DIR:-$HOME/.cache/hnp-sidecar}/cluster/bin/.
#
# A binary already built for its pinned version is kept, so a second run only
# prints the paths. Concurrent runs (parallel test processes) take a lock and
# build once. Each build is done in a wrapper module generated in a temporary
# directory (never committed) and prints its wall time and peak memory.
#
# Usage: test/cluster/build.sh [etcd|kube-apiserver]...   (default: both)
# On success the last lines of stdout are "<name> <path>", one per binary.
set -euo pipefail

ETCD_VERSION=v3.6.16
KUBE_VERSION=v1.37.2
# The staging modules (k8s.io/api, k8s.io/apiserver, …) are published with
# the same minor version as k8s.io/kubernetes, major 0: v1.37.2 -> v0.37.2.
KUBE_STAGING_VERSION=v0.${KUBE_VERSION#v1.}
# GOTOOLCHAIN for the kube-apiserver build only, when k8s.io/kubernetes needs
# a newer Go than the one installed (it does not at v1.37.2: go 1.26.0).
KUBE_GOTOOLCHAIN=${KUBE_GOTOOLCHAIN:-}

CACHE_DIR=${HNP_CACHE_DIR:-$HOME/.cache/hnp-sidecar}
BIN_DIR=$CACHE_DIR/cluster/bin
mkdir -p "$BIN_DIR"

log() { printf 'build.sh: %s\n' "$*" >&2; }

# measure <name> <command...>: runs the command in its own session, prints
# its wall time, the peak RSS of its largest process (GNU time's "Maximum
# resident set size") and the peak of the whole process tree's RSS summed
# (sampled from ps every 0.5 s; go build runs compile and link in parallel).
measure() {
	local name=$1
	shift
	local tv=$TMP/$name.time
	local start end peak=0 sum pid
	start=$(date +%s.%N)
	if [[ -x /usr/bin/time ]]; then
		setsid /usr/bin/time -v -o "$tv" "$@" &
	else
		setsid "$@" &
	fi
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		sum=$(ps -o rss= -s "$pid" 2>/dev/null | awk '{s+=$1} END {print s+0}')
		((sum > peak)) && peak=$sum
		sleep 0.5
	done
	local rc=0
	wait "$pid" || rc=$?
	end=$(date +%s.%N)
	local maxrss=unknown
	if [[ -f $tv ]]; then
		maxrss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f MB", $2/1024}' "$tv")
	fi
	log "$(awk -v n="$name" -v ok="$([[ $rc == 0 ]] && echo finished || echo FAILED)" -v s="$start" -v e="$end" \
		-v m="$maxrss" -v p="$peak" 'BEGIN {
			printf "%s: %s in %.1f s; peak RSS: largest process %s, whole tree %.0f MB", n, ok, e - s, m, p / 1024
		}')"
	return "$rc"
}

build_etcd() {
	local out=$BIN_DIR/etcd-$ETCD_VERSION
	[[ -x $out ]] && return 0
	log "building etcd $ETCD_VERSION (about 40 s cold) ..."
	local mod=$TMP/etcd
	mkdir -p "$mod"
	# go.etcd.io/etcd/server/v3 has "replace … => ../api" lines for its
	# sibling modules, which only hold inside etcd's own repository; so it
	# cannot be built with "go install …@version" and is required from here.
	cat >"$mod/go.mod" <<-EOF
		module hnp-sidecar.test/etcd-build

		go 1.26.0

		require go.etcd.io/etcd/server/v3 $ETCD_VERSION
	EOF
	(
		cd "$mod"
		measure etcd-modules env GOFLAGS=-mod=mod go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2
		measure etcd env GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -o "$out.tmp" \
			-ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION" \
			go.etcd.io/etcd/server/v3 >&2
	)
	mv "$out.tmp" "$out"
}

build_kube_apiserver() {
	local out=$BIN_DIR/kube-apiserver-$KUBE_VERSION
	[[ -x $out ]] && return 0
	log "building kube-apiserver $KUBE_VERSION (about 4 min and 2.5 GB cold) ..."
	local mod=$TMP/kube
	mkdir -p "$mod"
	(
		cd "$mod"
		[[ -n $KUBE_GOTOOLCHAIN ]] && export GOTOOLCHAIN=$KUBE_GOTOOLCHAIN
		# k8s.io/kubernetes requires its staging modules at v0.0.0 with
		# "replace … => ./staging/src/…", which only hold in its own
		# repository; replace each with the published module instead.
		local kmod
		kmod=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | awk -F'"' '/"GoMod"/ {print $4}')
		{
			printf 'module hnp-sidecar.test/kube-apiserver-build\n\ngo 1.26.0\n\ngodebug default=go1.26\n\n'
			printf 'require k8s.io/kubernetes %s\n\nreplace (\n' "$KUBE_VERSION"
			sed -nE 's#^[[:space:]]*(k8s\.io/[a-z0-9-]+) => \./staging/src/k8s\.io/[a-z0-9-]+[[:space:]]*$#\t\1 => \1 '"$KUBE_STAGING_VERSION"'#p' "$kmod"
			printf ')\n'
		} >go.mod
		grep -q '=> k8s.io/api ' go.mod || { log "no staging replaces found in $kmod"; exit 1; }
		measure kube-apiserver-modules env GOFLAGS=-mod=mod go get "k8s.io/kubernetes/cmd/kube-apiserver@$KUBE_VERSION" >&2
		local minor=${KUBE_VERSION#v1.}
		minor=${minor%%.*}
		local date
		date=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | awk -F'"' '/"Time"/ {print $4; exit}')
		local ld="-s -w" p
		for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
			ld+=" -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
			ld+=" -X $p.gitTreeState=clean -X $p.buildDate=${date:-1970-01-01T00:00:00Z}"
		done
		measure kube-apiserver env GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -o "$out.tmp" \
			-ldflags "$ld" k8s.io/kubernetes/cmd/kube-apiserver >&2
	)
	mv "$out.tmp" "$out"
}

want=("$@")
((${#want[@]})) || want=(etcd kube-apiserver)

exec 9>"$CACHE_DIR/cluster/build.lock"
if ! flock -n 9; then
	log "another build is running; waiting for its lock ($CACHE_DIR/cluster/build.lock) ..."
	flock 9
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hnp-cluster-build.XXXXXX")
trap 'chmod -R u+w "$TMP" 2>/dev/null; rm -rf "$TMP"; rm -f "$BIN_DIR"/*.tmp' EXIT

for w in "${want[@]}"; do
	case $w in
	etcd) build_etcd ;;
	kube-apiserver) build_kube_apiserver ;;
	*)
		log "unknown binary $w (etcd, kube-apiserver)"
		exit 2
		;;
	esac
done
for w in "${want[@]}"; do
	case $w in
	etcd) echo "etcd $BIN_DIR/etcd-$ETCD_VERSION" ;;
	kube-apiserver) echo "kube-apiserver $BIN_DIR/kube-apiserver-$KUBE_VERSION" ;;
	esac
done
