package state

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// Moves made outside a reconcile (Argo CD's outcome, drift) must reach
// NetBox even across a restart or an outage: they are marked here until
// their write-back lands (reconcile's ShowStates).

func (s *Store) toShow() string { return s.key("show") }

func showMember(fabric int64, field string) string {
	return strconv.FormatInt(fabric, 10) + "|" + field
}

// MarkShow marks objects of fabric (their record fields, Field) as moved
// but not yet shown in NetBox.
func (s *Store) MarkShow(ctx context.Context, fabric int64, fields ...string) error {
	if len(fields) == 0 {
		return nil
	}
	members := make([]any, len(fields))
	for i, f := range fields {
		members[i] = showMember(fabric, f)
	}
	if err := s.rdb.SAdd(ctx, s.toShow(), members...).Err(); err != nil {
		return fmt.Errorf("state: mark to show: %w", err)
	}
	return nil
}

// Shown unmarks objects of fabric: NetBox shows their states.
func (s *Store) Shown(ctx context.Context, fabric int64, fields ...string) error {
	if len(fields) == 0 {
		return nil
	}
	members := make([]any, len(fields))
	for i, f := range fields {
		members[i] = showMember(fabric, f)
	}
	if err := s.rdb.SRem(ctx, s.toShow(), members...).Err(); err != nil {
		return fmt.Errorf("state: unmark shown: %w", err)
	}
	return nil
}

// ToShow lists the marked objects by fabric.
func (s *Store) ToShow(ctx context.Context) (map[int64][]string, error) {
	members, err := s.rdb.SMembers(ctx, s.toShow()).Result()
	if err != nil {
		return nil, fmt.Errorf("state: read marked to show: %w", err)
	}
	out := map[int64][]string{}
	for _, m := range members {
		id, field, ok := strings.Cut(m, "|")
		n, err := strconv.ParseInt(id, 10, 64)
		if ok && err == nil {
			out[n] = append(out[n], field)
		}
	}
	return out, nil
}
