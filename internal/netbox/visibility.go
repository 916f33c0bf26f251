package netbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
)

// Visibility is what the sidecar's own token may see in NetBox.
//
// NetBox 4.7 restricts every queryset to the user's object permissions:
// an object a constraint hides is left out of lists and answers 404 by id,
// exactly like a deleted one, so the sidecar cannot tell them apart from
// the answers alone. What is checked, and how reliably:
//   - each kind's list answers 200, not 403 (no view permission at all):
//     reliable;
//   - each fabric served answers 200 by id, not 404: reliable for a fabric
//     known to exist (a deleted one answers 404 too);
//   - the user's own permissions (/api/authentication-check/ names them,
//     without constraints) are read by id from /api/users/permissions/,
//     and their groups' by group_id, to find constraints on view of a
//     Hedgehog kind: reliable when the token may read permissions (an
//     administrator's); otherwise listed in Unverified.
//
// The plugin's fabric count fields (vpcs_count, cached_vpc_count, …) are
// stored values the plugin does not keep current (the stand-in never
// updates them): they cannot serve as an unrestricted count.
type Visibility struct {
	User string
	// Problems each stop the sidecar from seeing objects it serves.
	Problems []string
	// Unverified are constraints that could not be read.
	Unverified []string
}

type authUser struct {
	ID          int64  `json:"id"`
	Username    string `json:"username"`
	Permissions []perm `json:"permissions"`
	Groups      []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"groups"`
}

type perm struct {
	ID          int64           `json:"id"`
	Name        string          `json:"name"`
	Enabled     *bool           `json:"enabled"`
	ObjectTypes []string        `json:"object_types"`
	Actions     []string        `json:"actions"`
	Constraints json.RawMessage `json:"constraints"`
}

// hedgehogView is the Hedgehog kinds p lets view; none when disabled.
func (p perm) hedgehogView() []string {
	if (p.Enabled != nil && !*p.Enabled) || !slices.Contains(p.Actions, "view") {
		return nil
	}
	var out []string
	for _, t := range p.ObjectTypes {
		if strings.HasPrefix(t, kind.App+".") {
			out = append(out, t)
		}
	}
	return out
}

func constrained(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s != "" && s != "null" && s != "{}" && s != "[]" && s != "[{}]"
}

// CheckVisibility checks that the client's token may view every kind and
// each of fabrics. An error is NetBox not answering; what it refuses is in
// the result.
func (c *Client) CheckVisibility(ctx context.Context, kinds []kind.Kind, fabrics []int64) (Visibility, error) {
	var v Visibility
	var me authUser
	err := c.Do(ctx, http.MethodGet, "/api/authentication-check/", nil, &me)
	if ae := AsAPIError(err); ae != nil && (ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden) {
		v.Problems = append(v.Problems, fmt.Sprintf("NetBox does not accept the sidecar's token (HTTP %d)", ae.Status))
		return v, nil
	} else if err != nil {
		return v, fmt.Errorf("netbox: visibility: %w", err)
	}
	v.User = me.Username
	for _, k := range kinds {
		err := c.Do(ctx, http.MethodGet, PluginPath+k.Endpoint+"?brief=1&limit=1", nil, nil)
		if Refused(err) {
			v.Problems = append(v.Problems, fmt.Sprintf("user %s may not view %s objects (HTTP %d)", me.Username, k.Name, AsAPIError(err).Status))
		} else if err != nil {
			return v, fmt.Errorf("netbox: visibility: %w", err)
		}
	}
	for _, id := range fabrics {
		_, err := c.GetFabric(ctx, id)
		switch {
		case errors.Is(err, ErrNotFound) || Refused(err):
			v.Problems = append(v.Problems, fmt.Sprintf("user %s may not view fabric %d, which the sidecar serves "+
				"(NetBox answers as if it were deleted)", me.Username, id))
		case err != nil:
			return v, fmt.Errorf("netbox: visibility: %w", err)
		}
	}
	return v, c.checkConstraints(ctx, me, &v)
}

// checkConstraints finds view permissions on Hedgehog kinds that carry
// constraints: each hides the objects it does not match.
func (c *Client) checkConstraints(ctx context.Context, me authUser, v *Visibility) error {
	var perms []perm
	unreadable, groupsUnread := map[string]bool{}, false
	for _, p := range me.Permissions {
		if len(p.hedgehogView()) == 0 {
			continue
		}
		var full perm
		err := c.Do(ctx, http.MethodGet, "/api/users/permissions/"+strconv.FormatInt(p.ID, 10)+"/", nil, &full)
		switch {
		case errors.Is(err, ErrNotFound) || Refused(err):
			v.Unverified = append(v.Unverified, fmt.Sprintf("permission %q (view on %s): its constraints are not readable with the sidecar's token",
				p.Name, strings.Join(p.hedgehogView(), ", ")))
			for _, t := range p.hedgehogView() {
				unreadable[t] = true
			}
			continue
		case err != nil:
			return fmt.Errorf("netbox: visibility: %w", err)
		}
		perms = append(perms, full)
	}
	for _, g := range me.Groups {
		var pg page[perm]
		err := c.Do(ctx, http.MethodGet, "/api/users/permissions/?limit=1000&group_id="+strconv.FormatInt(g.ID, 10), nil, &pg)
		switch {
		case errors.Is(err, ErrNotFound) || Refused(err):
			v.Unverified = append(v.Unverified, fmt.Sprintf("the permissions of group %q are not readable with the sidecar's token", g.Name))
			groupsUnread = true
			continue
		case err != nil:
			return fmt.Errorf("netbox: visibility: %w", err)
		}
		perms = append(perms, pg.Results...)
	}
	// Permissions add up: a kind is restricted only when every view
	// permission on it that could be read has constraints and none could
	// not be read.
	free, hidden := map[string]bool{}, map[string][]string{}
	for _, p := range perms {
		for _, t := range p.hedgehogView() {
			if constrained(p.Constraints) {
				hidden[t] = append(hidden[t], fmt.Sprintf("%q %s", p.Name, strings.TrimSpace(string(p.Constraints))))
			} else {
				free[t] = true
			}
		}
	}
	for _, t := range slices.Sorted(maps.Keys(hidden)) {
		if free[t] || unreadable[t] || groupsUnread {
			continue
		}
		v.Problems = append(v.Problems, fmt.Sprintf("user %s may view only some %s objects (permission %s): the objects it "+
			"hides look deleted to the sidecar; grant view on them without constraints", me.Username, t, strings.Join(hidden[t], ", ")))
	}
	return nil
}
