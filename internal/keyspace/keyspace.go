// Package keyspace names the sidecar's Redis keys. Every key starts with
// the configured prefix as a hash tag, "{hnp}:", so a Redis Cluster keeps
// them all in one slot and the multi-key scripts stay atomic. The families
// under it:
//
//	{p}:q:…                the work queue (queue)
//	{p}:st:…               object states, their history, and the moves NetBox has not seen yet (state)
//	{p}:job:<id>           re-sync and installation jobs (jobs)
//	{p}:argocd-install:<fabric>  the lock of a running Argo CD installation (jobs)
//	{p}:problems:…         fabrics' configuration problems, refused write-backs (problems)
//	{p}:lease:<fabric>     the fabric's writer, "<token>|<replica>"; lease-fence:<fabric> its fencing
//	                       token; lease-covered:<fabric> when its last full run began; replicas (lease)
//	{p}:argocd:…           the Argo CD syncer's targets, health and failures per fabric (argocd)
//	{p}:drift:report:<fabric>  the last drift report (drift)
//	{p}:wb:ver:<fabric>    each object's newest known version and written fields (reconcile's write-back)
//	{p}:snap:<fabric>      the fabric's last-known NetBox objects; snap-meta:<fabric> their commit,
//	                       configuration fingerprint and generation (known)
package keyspace

import "strings"

// Key is "{prefix}:" followed by parts joined with ":"; with no parts it
// is the family's own prefix, "{prefix}:". prefix must not contain braces
// (HNP_REDIS_PREFIX refuses them): then every key is in prefix's slot,
// whatever the parts (FuzzKeySlot), and TestStoresOnARedisCluster
// (internal/testenv/redis) runs every store on a real Cluster.
func Key(prefix string, parts ...string) string {
	return "{" + prefix + "}:" + strings.Join(parts, ":")
}
