// Package testenv holds what the tests, the benchmarks and `make run` start
// or load; none of it is part of the product, which imports none of it.
//
// Each rig is a directory named after what it runs, and its package name is
// that name with "env" added, so that it reads well at call sites and does
// not clash with the package it stands beside (go-redis's redis,
// internal/netbox, internal/argocd):
//
//	internal/testenv/redis    redisenv    a private redis-server, a Sentinel set, a Cluster
//	internal/testenv/netbox   netboxenv   one private NetBox per test process (test/netbox/up.sh)
//	internal/testenv/cluster  clusterenv  a private etcd and kube-apiserver with the Hedgehog CRDs
//	internal/testenv/argocd   argocdenv   a real Argo CD as local processes, in a network namespace
//	internal/testenv/git      gitenv      git http-backend behind net/http/cgi (http or https); git-shell behind an SSH server
//
// Helpers that run no server keep their directory's name as package name:
//
//	internal/testenv/netns    netns       listen and dial in another network namespace; TCP forwarding
//	internal/testenv/fabric   fabric      the sample fabric (and N-switch fabrics) and its loader
//	internal/testenv/proc     proc        the process supervisor of redisenv, clusterenv and argocdenv
//	internal/testenv/build    build       the hnp-sidecar binary, built once per test process
//	internal/testenv/tlsca    tlsca       a private CA and serving certificates for 127.0.0.1
//	internal/testenv/redis/failover  failover  a Sentinel failover measured under a stream of hints
//
// Importers name the rigs explicitly, e.g.
//
//	redisenv "github.com/githedgehog/hnp-sidecar/internal/testenv/redis"
package testenv
