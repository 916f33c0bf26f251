// Package kind is the table of Hedgehog custom-resource kinds the sidecar
// manages and how each one is named in NetBox, the plugin API and Git
// (DESIGN.md §4 and §6). It is pure data with no I/O.
package kind

import "strings"

// App is the Django app label of the Hedgehog NetBox plugin.
const App = "netbox_hedgehog"

// Kind describes one object type the sidecar cares about.
type Kind struct {
	// Name is the Kubernetes kind ("VPC"), or "Fabric" for the fabric model.
	Name string
	// APIVersion is the CR apiVersion; empty for the fabric.
	APIVersion string
	// Model is the bare Django model name ("vpc").
	Model string
	// Endpoint is the path below /api/plugins/hedgehog/ ("vpcs/").
	Endpoint string
	// Plural is the directory name under managed/ ("vpcs"); empty for the fabric.
	Plural string
	// SyncWave is the Argo CD sync wave of the CR.
	SyncWave int
}

// ObjectType returns the NetBox object type, "netbox_hedgehog.vpc".
func (k Kind) ObjectType() string { return App + "." + k.Model }

// IsFabric reports whether k is the fabric model rather than a CR kind.
func (k Kind) IsFabric() bool { return k.APIVersion == "" }

const (
	vpcAPI    = "vpc.githedgehog.com/v1beta1"
	wiringAPI = "wiring.githedgehog.com/v1beta1"
)

// Fabric is the plugin's fabric model; its events drive whole-fabric work.
var Fabric = Kind{Name: "Fabric", Model: "hedgehogfabric", Endpoint: "fabrics/"}

// crs lists the twelve CR kinds in sync-wave order.
var crs = [...]Kind{
	{Name: "IPv4Namespace", APIVersion: vpcAPI, Model: "ipv4namespace", Endpoint: "ipv4-namespaces/", Plural: "ipv4namespaces", SyncWave: -2},
	{Name: "VLANNamespace", APIVersion: wiringAPI, Model: "vlannamespace", Endpoint: "vlan-namespaces/", Plural: "vlannamespaces", SyncWave: -2},
	{Name: "SwitchGroup", APIVersion: wiringAPI, Model: "switchgroup", Endpoint: "switch-groups/", Plural: "switchgroups", SyncWave: -2},
	{Name: "Switch", APIVersion: wiringAPI, Model: "switch", Endpoint: "switches/", Plural: "switches", SyncWave: -1},
	{Name: "Server", APIVersion: wiringAPI, Model: "server", Endpoint: "servers/", Plural: "servers", SyncWave: -1},
	{Name: "Connection", APIVersion: wiringAPI, Model: "connection", Endpoint: "connections/", Plural: "connections", SyncWave: 0},
	{Name: "VPC", APIVersion: vpcAPI, Model: "vpc", Endpoint: "vpcs/", Plural: "vpcs", SyncWave: 0},
	{Name: "External", APIVersion: vpcAPI, Model: "external", Endpoint: "externals/", Plural: "externals", SyncWave: 0},
	{Name: "VPCAttachment", APIVersion: vpcAPI, Model: "vpcattachment", Endpoint: "vpc-attachments/", Plural: "vpcattachments", SyncWave: 1},
	{Name: "VPCPeering", APIVersion: vpcAPI, Model: "vpcpeering", Endpoint: "vpc-peerings/", Plural: "vpcpeerings", SyncWave: 1},
	{Name: "ExternalAttachment", APIVersion: vpcAPI, Model: "externalattachment", Endpoint: "external-attachments/", Plural: "externalattachments", SyncWave: 1},
	{Name: "ExternalPeering", APIVersion: vpcAPI, Model: "externalpeering", Endpoint: "external-peerings/", Plural: "externalpeerings", SyncWave: 1},
}

// CRs returns the twelve CR kinds in sync-wave order. The slice is a copy.
func CRs() []Kind { return append([]Kind(nil), crs[:]...) }

// All returns the CR kinds followed by the fabric.
func All() []Kind { return append(CRs(), Fabric) }

// Lookup maps a webhook's object type to a Kind. It accepts the 4.4+ form
// "netbox_hedgehog.vpc" and the bare model name "vpc" that NetBox 4.0–4.3
// send in "model"; matching is case-insensitive. Object types of other apps
// are not ours and return false.
func Lookup(objectType string) (Kind, bool) {
	t := strings.ToLower(strings.TrimSpace(objectType))
	if app, model, ok := strings.Cut(t, "."); ok {
		if app != App {
			return Kind{}, false
		}
		t = model
	}
	for _, k := range All() {
		if k.Model == t {
			return k, true
		}
	}
	return Kind{}, false
}

// Named returns the kind called name ("VPC", "Fabric").
func Named(name string) (Kind, bool) {
	for _, k := range All() {
		if k.Name == name {
			return k, true
		}
	}
	return Kind{}, false
}
