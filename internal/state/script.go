package state

import (
	"fmt"
	"sort"
	"strings"

	"github.com/redis/go-redis/v9"
)

// moveScript applies one change to one record atomically: the check
// against the transition table, the record, its history and the counts
// move together, so two workers racing on one key cannot lose a
// transition.
//
// KEYS: records hash, history list, counts hash, meta hash, fabrics set,
// fabric names hash. ARGV: field, op (move|end), to, trigger, expect
// ("" | "none" | a state), patch JSON, now, history cap, fabric id,
// history TTL seconds (ended records), key JSON, and, with a fence, its
// value (the fence's key is KEYS[7]).
// Returns {status, from, changed}: status is ok, illegal, conflict,
// notfound or fenced (the writer's fabric lease is no longer its own);
// changed is the record's changed_at when this move reached synced (and
// cleared it: each change is measured once), else "".
const moveScriptBody = `
if KEYS[7] and redis.call('GET', KEYS[7]) ~= ARGV[12] then return {'fenced', '', ''} end
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local rec, from = nil, ''
if cur then rec = cjson.decode(cur); from = rec.state end
local expect = ARGV[5]
if expect == 'none' and rec then return {'conflict', from, ''} end
if expect ~= '' and expect ~= 'none' and from ~= expect then return {'conflict', from, ''} end
local patch = cjson.decode(ARGV[6])
local now, trig, to = ARGV[7], ARGV[4], ARGV[3]
local function illegal()
  redis.call('HINCRBY', KEYS[4], 'illegal', 1)
  return {'illegal', from, ''}
end
local function remember(entry)
  redis.call('LPUSH', KEYS[2], cjson.encode(entry))
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[8]) - 1)
  redis.call('HSET', KEYS[4], 'last_transition', now)
end
if ARGV[2] == 'end' then
  if not rec then return {'notfound', '', ''} end
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HINCRBY', KEYS[3], from, -1)
  remember({from = from, trigger = trig, reason = patch.reason, commit = patch.commit, at = now})
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[10]))
  return {'ok', from, ''}
end
if not rec then
  if not INITIAL[to] then return illegal() end
  if trig == '' then trig = 'observed' end
  if trig ~= 'observed' then return illegal() end
  rec = cjson.decode(ARGV[11])
  rec.created_at = now
else
  local t = TABLE[from .. '>' .. to]
  if not t or (trig ~= '' and trig ~= t) then return illegal() end
  trig = t
  redis.call('HINCRBY', KEYS[3], from, -1)
end
for k, v in pairs(patch) do
  if k == 'committed' then
    if v then rec.committed_at = now end
  elseif k == 'changed_at' then
    if not rec.changed_at then rec.changed_at = v end
  elseif k == 'reason' or v ~= '' then
    rec[k] = v
  end
end
local changed = ''
if to == 'synced' and rec.changed_at then
  changed = rec.changed_at
  rec.changed_at = nil
end
rec.state, rec.updated_at = to, now
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(rec))
redis.call('HINCRBY', KEYS[3], to, 1)
redis.call('SADD', KEYS[5], ARGV[9])
if patch.fabric_name and patch.fabric_name ~= '' then redis.call('HSET', KEYS[6], ARGV[9], patch.fabric_name) end
redis.call('PERSIST', KEYS[2])
remember({from = from, to = to, trigger = trig, reason = patch.reason, commit = patch.commit, at = now})
return {'ok', from, changed}
`

// newMoveScript renders the script with the transition table, so the Go
// table stays the one source.
func newMoveScript() *redis.Script {
	var edges []string
	for e, t := range transitions {
		edges = append(edges, fmt.Sprintf("[%q]=%q", string(e.from)+">"+string(e.to), string(t)))
	}
	sort.Strings(edges)
	var inits []string
	for s := range initial {
		inits = append(inits, fmt.Sprintf("[%q]=true", string(s)))
	}
	sort.Strings(inits)
	src := "local TABLE = {" + strings.Join(edges, ",") + "}\n" +
		"local INITIAL = {" + strings.Join(inits, ",") + "}\n" + moveScriptBody
	return redis.NewScript(src)
}
