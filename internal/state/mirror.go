package state

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
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

// unlockScript deletes a lock only while it holds the caller's token.
const unlockScript = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`

// LockMirror takes fabric's mirror lock for at most ttl: one replica at a
// time loads the records, writes the HedgehogResources and saves the
// mirror, so an older write never lands after a newer one (any replica's
// writer may show a fabric's states). It waits up to wait for the lock;
// false when another holds it still. release gives it back.
func (s *Store) LockMirror(ctx context.Context, fabric int64, ttl, wait time.Duration) (release func(context.Context), ok bool, err error) {
	key := s.key("mlock", strconv.FormatInt(fabric, 10))
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, false, fmt.Errorf("state: mirror lock token: %w", err)
	}
	token := hex.EncodeToString(b[:])
	deadline := time.Now().Add(wait)
	for {
		got, err := s.rdb.SetNX(ctx, key, token, ttl).Result()
		if err != nil {
			return nil, false, fmt.Errorf("state: mirror lock of fabric %d: %w", fabric, err)
		}
		if got {
			return func(ctx context.Context) { _ = s.rdb.Eval(ctx, unlockScript, []string{key}, token).Err() }, true, nil
		}
		if time.Now().After(deadline) {
			return nil, false, nil
		}
		select {
		case <-ctx.Done():
			return nil, false, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
