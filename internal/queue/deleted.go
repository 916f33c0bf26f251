package queue

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Delete evidence. Keys are per object, so the run of one object's key
// holds only that object's hints; a bulk delete in NetBox (one webhook per
// object, one key each) would leave each run with one delete webhook and
// the others' files answering 404 by id, which the reconciler's mass
// deletion guard counts as unconfirmed. Enqueue therefore also records
// every delete hint per fabric, and a run of any key of that fabric reads
// them (Deleted):
//
//	{p}:q:deleted:<fabric>  ZSET "<object_type>:<id>" → received (ms)
//
// An entry lives DeleteEvidenceTTL; the set holds at most
// maxDeleteEvidence entries (the newest win). It is under the queue's hash
// tag, so a Redis Cluster keeps it in the queue's slot.

// DeleteEvidenceTTL is how long a delete webhook counts as evidence for
// the runs of other keys of its fabric.
const DeleteEvidenceTTL = 24 * time.Hour

// maxDeleteEvidence bounds one fabric's set.
const maxDeleteEvidence = 100_000

func (k keys) deleted(fabric int64) string {
	return k.pfx + "deleted:" + strconv.FormatInt(fabric, 10)
}

// recordDeleteScript adds ARGV[1] at ARGV[2] (ms), drops entries older
// than ARGV[3] and beyond the newest ARGV[4], and expires the set ARGV[5]
// ms after its newest entry.
var recordDeleteScript = redis.NewScript(`
local set = KEYS[1]
redis.call('ZADD', set, 'GT', ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', set, '-inf', '(' .. ARGV[3])
redis.call('ZREMRANGEBYRANK', set, 0, -tonumber(ARGV[4]) - 1)
redis.call('PEXPIRE', set, ARGV[5])
return 0
`)

// recordDelete notes h as delete evidence for its fabric, before the hint
// is queued: when its key (or any other of the fabric) runs, the evidence
// is there. A hint without a fabric (data.fabric missing) is not noted:
// its own run still has it.
func (q *Queue) recordDelete(ctx context.Context, h Hint) error {
	if h.Event != "deleted" || h.Fabric <= 0 {
		return nil
	}
	now := q.now()
	err := recordDeleteScript.Run(ctx, q.rdb, []string{q.keys.deleted(h.Fabric)},
		string(h.Key()), ms(now), ms(now.Add(-DeleteEvidenceTTL)), maxDeleteEvidence, DeleteEvidenceTTL.Milliseconds()).Err()
	if err != nil {
		return fmt.Errorf("queue: record delete of %s: %w", h.Key(), err)
	}
	return nil
}

// Deleted returns the objects of fabric that a delete webhook named in the
// last DeleteEvidenceTTL, by key ("<object_type>:<id>").
func (q *Queue) Deleted(ctx context.Context, fabric int64) (map[Key]bool, error) {
	ks, err := q.rdb.ZRangeByScore(ctx, q.keys.deleted(fabric), &redis.ZRangeBy{
		Min: strconv.FormatInt(ms(q.now().Add(-DeleteEvidenceTTL)), 10), Max: "+inf",
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("queue: deleted objects of fabric %d: %w", fabric, err)
	}
	out := make(map[Key]bool, len(ks))
	for _, k := range ks {
		out[Key(k)] = true
	}
	return out, nil
}
