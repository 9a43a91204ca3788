"""The Redis backend's Lua scripts: every store operation is one script on one hash slot.

Every script gets ARGV[1] = the bucket's key base (`{prefix}:{{n}}`, a hash tag), ARGV[2] =
the store clock's now (µs) and ARGV[3] = '1' when the server has per-field expiry (HPEXPIRE,
Redis >= 7.4), then its own arguments. Key names are derived from the base here, in one
place; the caller declares the bucket's `threads` key as KEYS[1], which routes the call to the
slot's node, and Redis Cluster refuses a script that strays from that slot, so a wrong name
fails loudly instead of silently splitting a thread. Lua numbers are doubles: µs timestamps
(~1.8e15) stay exact below 2^53.
"""

from __future__ import annotations

__all__ = ["SCRIPTS"]

_PRELUDE = """
local B, NOW, HFE = ARGV[1], tonumber(ARGV[2]), ARGV[3] == '1'
local THREADS, DUE = B .. ':threads', B .. ':due'
local function key(kind, tid) return B .. ':' .. kind .. ':' .. tid end
local function hist(tid, k) return B .. ':h:' .. #tid .. ':' .. tid .. ':' .. k end

-- Delete a thread's expired values, then re-derive its index entries and native TTLs.
local function settle(tid)
  local v, u, x = key('v', tid), key('u', tid), key('x', tid)
  local dead = redis.call('ZRANGEBYSCORE', x, '-inf', NOW)
  for i = 1, #dead do
    redis.call('HDEL', v, dead[i])
    redis.call('ZREM', u, dead[i])
    redis.call('ZREM', x, dead[i])
  end
  local n = redis.call('HLEN', v)
  if n == 0 then
    redis.call('DEL', v, u, x)
    redis.call('ZREM', THREADS, tid)
    redis.call('ZREM', DUE, tid)
    return #dead
  end
  redis.call('ZADD', THREADS, redis.call('ZREVRANGE', u, 0, 0, 'WITHSCORES')[2], tid)
  local first = redis.call('ZRANGE', x, 0, 0, 'WITHSCORES')
  if #first == 0 then
    redis.call('ZREM', DUE, tid)
  else
    redis.call('ZADD', DUE, first[2], tid)
  end
  if redis.call('ZCARD', x) == n then
    local last = tonumber(redis.call('ZREVRANGE', x, 0, 0, 'WITHSCORES')[2])
    local ms = math.ceil((last - NOW) / 1000)
    for _, name in ipairs({v, u, x}) do redis.call('PEXPIRE', name, ms) end
  else
    for _, name in ipairs({v, u, x}) do redis.call('PERSIST', name) end
  end
  return #dead
end
"""

# ARGV[4..]: thread, key, value JSON, expiry µs or '', keep history '1'/'0', versions, age µs.
# With per-field expiry Redis also drops the field by itself once it is due (relative to the
# store's clock, rounded up so Redis never drops a value the store still shows); HSET of a
# field clears its old field TTL, so a value set without expiry needs nothing more. Redis
# refuses field TTLs past about the year 4000, so one further than FIELD_TTL_MAX (~31 years)
# is left to the score and the sweep.
_SET = """
local FIELD_TTL_MAX = 1e12
local tid, k, val, exp = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local v = key('v', tid)
redis.call('HSET', v, k, val)
redis.call('ZADD', key('u', tid), NOW, k)
if exp == '' then
  redis.call('ZREM', key('x', tid), k)
else
  redis.call('ZADD', key('x', tid), exp, k)
  local ms = math.ceil((tonumber(exp) - NOW) / 1000)
  if HFE and ms > 0 and ms < FIELD_TTL_MAX then redis.call('HPEXPIRE', v, ms, 'FIELDS', 1, k) end
end
settle(tid)
if ARGV[8] == '1' then
  local versions, age = tonumber(ARGV[9]), tonumber(ARGV[10])
  local h = hist(tid, k)
  redis.call('LPUSH', h, ARGV[2] .. ' ' .. (exp == '' and '-' or exp) .. ' ' .. val)
  redis.call('LTRIM', h, 0, versions - 1)
  while true do
    local oldest = redis.call('LINDEX', h, -1)
    if tonumber(string.match(oldest, '^%d+')) >= NOW - age then break end
    redis.call('RPOP', h)
  end
  local ms = math.max(1, math.ceil(age / 1000))
  local hk = key('hk', tid)
  redis.call('SADD', hk, h)
  redis.call('PEXPIRE', h, ms)
  redis.call('PEXPIRE', hk, ms)
end
"""

_GET = """
local tid, k = ARGV[4], ARGV[5]
local value = redis.call('HGET', key('v', tid), k)
if not value then return false end
local exp = redis.call('ZSCORE', key('x', tid), k)
if exp and tonumber(exp) <= NOW then return false end
return value
"""

# Returns {key, value JSON, set µs, expiry µs or ''} for each live value of the thread.
_ENTRIES = """
local tid = ARGV[4]
local set_at, expiry = {}, {}
local u = redis.call('ZRANGE', key('u', tid), 0, -1, 'WITHSCORES')
for i = 1, #u, 2 do set_at[u[i]] = u[i + 1] end
local x = redis.call('ZRANGE', key('x', tid), 0, -1, 'WITHSCORES')
for i = 1, #x, 2 do expiry[x[i]] = x[i + 1] end
local values, out = redis.call('HGETALL', key('v', tid)), {}
for i = 1, #values, 2 do
  local k = values[i]
  local exp = expiry[k]
  if not exp or tonumber(exp) > NOW then
    out[#out + 1] = {k, values[i + 1], set_at[k], exp or ''}
  end
end
return out
"""

_STAMPS = """
local tid = ARGV[4]
local expiry = {}
local x = redis.call('ZRANGE', key('x', tid), 0, -1, 'WITHSCORES')
for i = 1, #x, 2 do expiry[x[i]] = x[i + 1] end
local u, out = redis.call('ZRANGE', key('u', tid), 0, -1, 'WITHSCORES'), {}
for i = 1, #u, 2 do
  local exp = expiry[u[i]]
  if not exp or tonumber(exp) > NOW then out[#out + 1] = {u[i], u[i + 1], exp or ''} end
end
return out
"""

_DELETE = """
local tid, k = ARGV[4], ARGV[5]
redis.call('HDEL', key('v', tid), k)
redis.call('ZREM', key('u', tid), k)
redis.call('ZREM', key('x', tid), k)
settle(tid)
"""

_CLEAR = """
local tid = ARGV[4]
local hk = key('hk', tid)
for _, h in ipairs(redis.call('SMEMBERS', hk)) do redis.call('DEL', h) end
redis.call('DEL', key('v', tid), key('u', tid), key('x', tid), hk)
redis.call('ZREM', THREADS, tid)
redis.call('ZREM', DUE, tid)
"""

# Settles up to ARGV[4] threads that hold an expired value; returns {values removed, threads}.
_SWEEP = """
local tids = redis.call('ZRANGEBYSCORE', DUE, '-inf', NOW, 'LIMIT', 0, tonumber(ARGV[4]))
local removed = 0
for i = 1, #tids do removed = removed + settle(tids[i]) end
return {removed, #tids}
"""

# The bucket's newest `ARGV[4]` threads: {tid, updated µs, tid, updated µs, ...}.
_TOP = """
return redis.call('ZREVRANGE', THREADS, 0, tonumber(ARGV[4]) - 1, 'WITHSCORES')
"""

# One thread's session row, settled first: {updated µs, keys} or nil when it has no value.
_ROW = """
local tid = ARGV[4]
settle(tid)
local score = redis.call('ZSCORE', THREADS, tid)
if not score then return false end
return {score, redis.call('HKEYS', key('v', tid))}
"""

_HISTORY = """
return redis.call('LRANGE', hist(ARGV[4], ARGV[5]), 0, tonumber(ARGV[6]) - 1)
"""

SCRIPTS = {
    name: _PRELUDE + body
    for name, body in {
        "set": _SET,
        "get": _GET,
        "entries": _ENTRIES,
        "stamps": _STAMPS,
        "delete": _DELETE,
        "clear": _CLEAR,
        "sweep": _SWEEP,
        "top": _TOP,
        "row": _ROW,
        "history": _HISTORY,
    }.items()
}
"""Script name -> Lua source (the shared prelude included)."""
