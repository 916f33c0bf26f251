package state

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
)

// Each object's state is also shown on a record NetBox keeps for it (the
// plugin's HedgehogResource). What was last written there is mirrored
// here, per fabric, so a run writes only what changed, without reading
// NetBox first, on whichever replica writes the fabric.

// Mirror is what NetBox holds for one record: its id there and the fields
// last written (or refused: then the same values are not sent again).
type Mirror struct {
	ID      int64          `json:"id,omitempty"`
	Fields  map[string]any `json:"f,omitempty"`
	Refused bool           `json:"refused,omitempty"`
}

// primedField marks a fabric's mirror as built from NetBox's own list.
const primedField = "|primed"

func (s *Store) mirror(fabric int64) string { return s.key("m", strconv.FormatInt(fabric, 10)) }

// Mirrored returns fabric's mirror by record field (Field), and whether it
// was built from NetBox's list (primed): if not, it is to be rebuilt.
func (s *Store) Mirrored(ctx context.Context, fabric int64) (map[string]Mirror, bool, error) {
	raw, err := s.rdb.HGetAll(ctx, s.mirror(fabric)).Result()
	if err != nil {
		return nil, false, fmt.Errorf("state: load mirror of fabric %d: %w", fabric, err)
	}
	_, primed := raw[primedField]
	delete(raw, primedField)
	out := make(map[string]Mirror, len(raw))
	for f, v := range raw {
		var m Mirror
		if err := json.Unmarshal([]byte(v), &m); err != nil {
			continue // unreadable: rebuilt as absent
		}
		out[f] = m
	}
	return out, primed, nil
}

// SetMirrored records set, removes del and sets whether fabric's mirror is
// primed; replace drops every other entry first (a mirror rebuilt from
// NetBox's list).
func (s *Store) SetMirrored(ctx context.Context, fabric int64, set map[string]Mirror, del []string, primed, replace bool) error {
	key := s.mirror(fabric)
	pipe := s.rdb.TxPipeline()
	if replace {
		pipe.Del(ctx, key)
	}
	if len(del) > 0 {
		pipe.HDel(ctx, key, del...)
	}
	for f, m := range set {
		b, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("state: encode mirror %d/%s: %w", fabric, f, err)
		}
		pipe.HSet(ctx, key, f, b)
	}
	if primed {
		pipe.HSet(ctx, key, primedField, "1")
	} else {
		pipe.HDel(ctx, key, primedField)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("state: save mirror of fabric %d: %w", fabric, err)
	}
	return nil
}
