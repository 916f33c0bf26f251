package render

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReferences(t *testing.T) {
	set := NewSet(fixture(t)...)
	for _, tc := range []struct {
		name, kind, spec string
		want             []string
	}{
		{"attachment ok", "VPCAttachment", `{"subnet":"vpc-01/backend","connection":"server-01--eslag--leaf-01--leaf-02"}`, nil},
		{"attachment to missing VPC", "VPCAttachment", `{"subnet":"vpc-09","connection":"server-01--eslag--leaf-01--leaf-02"}`,
			[]string{"subnet refers to VPC vpc-09, which is not in the fabric"}},
		{"attachment to missing subnet", "VPCAttachment", `{"subnet":"vpc-01/frontend","connection":"server-01--eslag--leaf-01--leaf-02"}`,
			[]string{"subnet refers to subnet frontend of VPC vpc-01, which has no such subnet"}},
		{"attachment to missing connection", "VPCAttachment", `{"subnet":"vpc-01/default","connection":"server-99--unbundled--leaf-03"}`,
			[]string{"connection refers to Connection server-99--unbundled--leaf-03, which is not in the fabric"}},
		{"peering ok", "VPCPeering", `{"permit":[{"vpc-01":{"subnets":["backend"]},"vpc-02":{}}]}`, nil},
		{"peering with missing VPC and subnet", "VPCPeering", `{"permit":[{"vpc-01":{"subnets":["nope"]},"vpc-07":{}}]}`,
			[]string{"permit[0].vpc-01.subnets refers to subnet nope of VPC vpc-01, which has no such subnet",
				"permit[0].vpc-07 refers to VPC vpc-07, which is not in the fabric"}},
		{"connection with missing switch and server", "Connection",
			`{"eslag":{"links":[{"server":{"port":"server-77/enp2s1"},"switch":{"port":"leaf-01/E1/9"}},
				{"server":{"port":"server-77/enp2s2"},"switch":{"port":"leaf-09/E1/9"}}]}}`,
			[]string{"eslag.links[0].server.port refers to Server server-77, which is not in the fabric",
				"eslag.links[1].switch.port refers to Switch leaf-09, which is not in the fabric"}},
		{"server name is not a switch", "Connection", `{"unbundled":{"link":{"server":{"port":"leaf-01/e1"},"switch":{"port":"server-01/E1/1"}}}}`,
			[]string{"unbundled.link.server.port refers to Server leaf-01, which is not in the fabric",
				"unbundled.link.switch.port refers to Switch server-01, which is not in the fabric"}},
		{"fabric link ends", "Connection", `{"fabric":{"links":[{"spine":{"port":"spine-01/E1/9","ip":"172.30.128.100/31"},"leaf":{"port":"leaf-99/E1/50","ip":"172.30.128.101/31"}}]}}`,
			[]string{"fabric.links[0].leaf.port refers to Switch leaf-99, which is not in the fabric"}},
		{"mesh and gateway ends", "Connection", `{"gateway":{"links":[{"gateway":{"port":"gw-1/enp2s1"},"switch":{"port":"spine-03/E1/30"}}]}}`,
			[]string{"gateway.links[0].switch.port refers to Switch spine-03, which is not in the fabric"}},
		{"static external within a missing VPC", "Connection", `{"staticExternal":{"withinVPC":"vpc-05","link":{"switch":{"port":"leaf-04/E1/11","ip":"172.31.0.1/24"}}}}`,
			[]string{"staticExternal.withinVPC refers to VPC vpc-05, which is not in the fabric"}},
		{"external attachment", "ExternalAttachment", `{"connection":"leaf-04--external","external":"ext-2","neighbor":{},"switch":{}}`,
			[]string{"external refers to External ext-2, which is not in the fabric"}},
		{"external peering", "ExternalPeering", `{"permit":{"vpc":{"name":"vpc-01","subnets":["x"]},"external":{"name":"ext-1"}}}`,
			[]string{"permit.vpc.subnets refers to subnet x of VPC vpc-01, which has no such subnet"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Object{Kind: kindByName(t, tc.kind), Name: "obj", Spec: fromJSON(t, tc.spec)}
			var got []string
			for _, err := range Validate(o, set) {
				require.ErrorIs(t, err, ErrMissingRef)
				require.ErrorIs(t, err, ErrInvalid)
				var p *Problem
				require.True(t, errors.As(err, &p))
				require.NotNil(t, p.Missing)
				require.Contains(t, err.Error(), p.Missing.Name, "the missing name is in the reason")
				got = append(got, p.Field+" "+p.Reason)
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestDependents(t *testing.T) {
	objs := fixture(t)
	set := NewSet(objs...)
	require.Equal(t, len(objs), set.Len())

	var names []string
	for _, r := range set.Dependents(kindByName(t, "VPC"), "vpc-01") {
		require.NotZero(t, r.ID)
		names = append(names, r.String())
	}
	require.Equal(t, []string{
		"ExternalPeering vpc-01--ext-1",
		"VPCAttachment vpc-01--server-01", "VPCAttachment vpc-01--server-03", "VPCAttachment vpc-01--server-05",
		"VPCAttachment vpc-01--server-07", "VPCAttachment vpc-01--server-09",
		"VPCPeering vpc-01--vpc-02",
	}, names)
	require.Len(t, set.Dependents(kindByName(t, "Server"), "server-01"), 1)
	require.Len(t, set.Dependents(kindByName(t, "Switch"), "spine-01"), 4)
	require.Empty(t, set.Dependents(kindByName(t, "VPC"), "vpc-99"))

	// A VPC and its attachment arrive in one bulk edit, attachment first:
	// it waits on the VPC, and the VPC's arrival names it for a retry.
	vpc := kindByName(t, "VPC")
	att := Object{Kind: kindByName(t, "VPCAttachment"), ID: 900, Name: "vpc-03--server-01",
		Spec: fromJSON(t, `{"subnet":"vpc-03","connection":"server-01--eslag--leaf-01--leaf-02"}`)}
	set.Add(att)
	errs := Validate(att, set)
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], ErrMissingRef)
	require.Equal(t, []ObjectRef{att.Ref()}, set.Dependents(vpc, "vpc-03"))
	set.Add(Object{Kind: vpc, ID: 901, Name: "vpc-03", Spec: fromJSON(t, `{"subnets":{"default":{"subnet":"10.0.3.0/24","vlan":1003}}}`)})
	require.Empty(t, Validate(att, set))

	// Changing or removing an object updates what it depends on.
	att.Spec = fromJSON(t, `{"subnet":"vpc-02/default","connection":"server-01--eslag--leaf-01--leaf-02"}`)
	set.Add(att)
	require.Empty(t, set.Dependents(vpc, "vpc-03"))
	require.Contains(t, set.Dependents(vpc, "vpc-02"), att.Ref())
	set.Remove(att.Kind, att.Name)
	require.NotContains(t, set.Dependents(vpc, "vpc-02"), att.Ref())
	_, ok := set.Get(att.Kind, att.Name)
	require.False(t, ok)

	got := set.Objects()
	require.Len(t, got, set.Len())
	for i := 1; i < len(got); i++ {
		require.LessOrEqual(t, got[i-1].Kind.SyncWave, got[i].Kind.SyncWave)
	}
}
