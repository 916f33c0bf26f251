package state

import (
	"context"
	"encoding/json"
	"fmt"
)

// LoadFields returns the fabric's records named by fields (state.Field),
// without history; a field with no record is left out. An incremental
// reconcile reads the records of its one object this way, not the
// fabric's thousands.
func (s *Store) LoadFields(ctx context.Context, fabric int64, fields []string) (map[string]Record, error) {
	out := make(map[string]Record, len(fields))
	if len(fields) == 0 {
		return out, nil
	}
	raw, err := s.rdb.HMGet(ctx, s.records(fabric), fields...).Result()
	if err != nil {
		return nil, fmt.Errorf("state: load fabric %d: %w", fabric, err)
	}
	for i, v := range raw {
		str, ok := v.(string)
		if !ok {
			continue
		}
		var r Record
		if err := json.Unmarshal([]byte(str), &r); err != nil {
			return nil, fmt.Errorf("state: decode %d/%s: %w", fabric, fields[i], err)
		}
		out[fields[i]] = r
	}
	return out, nil
}
