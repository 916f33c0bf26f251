package queue

import "github.com/redis/go-redis/v9"

// Redis layout, all under one hash tag so a Redis Cluster keeps it in one slot:
//
//	{p}:q:ready     ZSET key → due time (ms)         waiting keys, one entry per key
//	{p}:q:inflight  ZSET key → lease deadline (ms)    keys a worker holds
//	{p}:q:leases    HASH key → claim token           fences a worker whose lease expired
//	{p}:q:dirty     SET  key                          hinted again while in flight
//	{p}:q:attempts  HASH key → failed runs
//	{p}:q:errors    HASH key → last error
//	{p}:q:dead      HASH key → dead-letter record (JSON)
//	{p}:q:hints:K   LIST hint JSON, oldest first      hints not yet handed out
//	{p}:q:proc:K    LIST hint JSON                     hints of the run in flight
//
// Every state change of a key is one Lua script, so it is atomic.

// enqueueScript records a hint. Returns 0 queued, 1 coalesced into a waiting
// entry, 2 deferred: the key is in flight and will run once more after it.
// A hint for a dead-lettered key revives it: it is a new change.
var enqueueScript = redis.NewScript(`
local ready, inflight, dirty, hints, dead, attempts = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local k = ARGV[1]
redis.call('RPUSH', hints, ARGV[2])
redis.call('LTRIM', hints, -tonumber(ARGV[4]), -1)
if redis.call('HDEL', dead, k) == 1 then redis.call('HDEL', attempts, k) end
if redis.call('ZSCORE', inflight, k) then
  redis.call('SADD', dirty, k)
  return 2
end
if redis.call('ZADD', ready, 'NX', ARGV[3], k) == 1 then return 0 end
return 1
`)

// claimScript moves up to ARGV[2] due keys to in flight under a lease and
// hands out their hints. Returns {next due ms or -1, {key, attempts, {hints}}...}.
var claimScript = redis.NewScript(`
local ready, inflight, leases, attempts = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now, limit, deadline, token, pfx = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
local out = {-1}
if limit > 0 then
  local ks = redis.call('ZRANGEBYSCORE', ready, '-inf', now, 'LIMIT', 0, limit)
  for _, k in ipairs(ks) do
    redis.call('ZREM', ready, k)
    redis.call('ZADD', inflight, deadline, k)
    redis.call('HSET', leases, k, token)
    local h, p = pfx .. 'hints:' .. k, pfx .. 'proc:' .. k
    while redis.call('LMOVE', h, p, 'LEFT', 'RIGHT') do end
    out[#out + 1] = {k, redis.call('HGET', attempts, k) or '0', redis.call('LRANGE', p, 0, -1)}
  end
end
local nxt = redis.call('ZRANGE', ready, 0, 0, 'WITHSCORES')
if #nxt == 2 then out[1] = tonumber(nxt[2]) end
return out
`)

// ackScript ends a successful run. If the key was hinted while in flight it
// is queued again (due ARGV[3]). Returns -1 lease lost, 0 done, 1 requeued.
var ackScript = redis.NewScript(`
local inflight, leases, dirty, ready, attempts, errs, proc = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local k = ARGV[1]
if redis.call('HGET', leases, k) ~= ARGV[2] then return -1 end
redis.call('ZREM', inflight, k)
redis.call('HDEL', leases, k)
redis.call('DEL', proc)
redis.call('HDEL', attempts, k)
redis.call('HDEL', errs, k)
if redis.call('SREM', dirty, k) == 1 then
  redis.call('ZADD', ready, 'NX', ARGV[3], k)
  return 1
end
return 0
`)

// releaseScript ends a run that did not succeed: the hints go back ahead of
// newer ones and the key waits until ARGV[3]. With ARGV[4] == '1' the run
// counts as a failed attempt and at ARGV[5] attempts the key is dead-lettered
// with record ARGV[6]. ARGV[2] is the claim token, or ” for the reaper,
// which only takes keys whose lease ended before ARGV[8]. A key hinted
// while in flight is not dead-lettered: the new hint revives it, as it
// would revive a dead letter.
// Returns -1 not held, 1 requeued, 2 dead-lettered.
var releaseScript = redis.NewScript(`
local inflight, leases, dirty, ready, attempts, errs, proc, hints, dead = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local k = ARGV[1]
if ARGV[2] ~= '' then
  if redis.call('HGET', leases, k) ~= ARGV[2] then return -1 end
else
  local d = redis.call('ZSCORE', inflight, k)
  if not d or tonumber(d) >= tonumber(ARGV[8]) then return -1 end
end
redis.call('ZREM', inflight, k)
redis.call('HDEL', leases, k)
local hinted = redis.call('SREM', dirty, k) == 1
while redis.call('LMOVE', proc, hints, 'RIGHT', 'LEFT') do end
redis.call('LTRIM', hints, -tonumber(ARGV[9]), -1)
if ARGV[7] ~= '' then redis.call('HSET', errs, k, ARGV[7]) end
if ARGV[4] == '1' then
  local n = redis.call('HINCRBY', attempts, k, 1)
  if n >= tonumber(ARGV[5]) and not hinted then
    redis.call('HSET', dead, k, ARGV[6])
    return 2
  end
end
redis.call('ZADD', ready, 'LT', ARGV[3], k)
return 1
`)

// extendScript renews the leases of the (key, token) pairs in ARGV[2:] that
// are still held. Returns how many were renewed.
var extendScript = redis.NewScript(`
local inflight, leases = KEYS[1], KEYS[2]
local n = 0
for i = 2, #ARGV, 2 do
  if redis.call('HGET', leases, ARGV[i]) == ARGV[i + 1] then
    redis.call('ZADD', inflight, 'XX', ARGV[1], ARGV[i])
    n = n + 1
  end
end
return n
`)

// replayScript takes a key off the dead-letter set and queues it with a
// fresh attempt count. Returns 0 when the key was not dead-lettered.
var replayScript = redis.NewScript(`
local dead, attempts, ready = KEYS[1], KEYS[2], KEYS[3]
if redis.call('HDEL', dead, ARGV[1]) == 0 then return 0 end
redis.call('HDEL', attempts, ARGV[1])
redis.call('ZADD', ready, 'NX', ARGV[2], ARGV[1])
return 1
`)
