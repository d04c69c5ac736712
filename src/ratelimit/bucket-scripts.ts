/**
 * The Lua of `RedisBucketStore`: the GCRA of `ratelimit/token-bucket.ts`, written again in Lua
 * so that each decision is one script, one round trip, atomic over all the buckets it names,
 * and timed by Redis' own clock (TIME) rather than by any client's.
 *
 * One string key per bucket and partition, holding `bwb1 <tat> <pausedUntil> <syncedAt> <floor>`
 * (ms on Redis' clock; `n` for a field never set). A key expires (PX) when its bucket is full
 * and unpaused again, which is when the in-memory store forgets a bucket too. A value that is
 * not this (another program's, another type) reads as a full bucket and is overwritten.
 *
 * Fractions matter (one token is 1000 / refillPerSecond ms), and Redis turns a Lua number
 * in a reply into an integer: numbers go out as strings, written with 17 significant digits so
 * that they read back exactly.
 *
 * A pause is held to `maxServerWaitMs` when it is set, and again when it is read: a key written
 * before the cap (or by hand) with a pause of years is cut down to the cap and written back, so
 * no such pause survives. A field that is not a finite number makes the value corrupt.
 */
import { maxServerWaitMs, maxTimerMs } from '../core/validate.js'
import { luaNowMs, RedisScript } from '../redis/scripts.js'

const luaState = `${luaNowMs}
local none = -math.huge
local max_pause = ${maxServerWaitMs}
local function fmt(x) return string.format('%.17g', x) end
local function field(s)
  if s == 'n' then return none end
  if not s then return nil end
  local x = tonumber(s)
  -- NaN fails both comparisons.
  if x and x > -math.huge and x < math.huge then return x end
  return nil
end
local function put(x)
  if x == none then return 'n' end
  return fmt(x)
end
local function write(key, st)
  local idle_at = math.max(st.t, st.p)
  if idle_at <= now_ms then
    if st.x then redis.call('DEL', key) end
  else
    local value = 'bwb1 ' .. put(st.t) .. ' ' .. put(st.p) .. ' ' .. put(st.s) .. ' ' .. put(st.f)
    redis.call('SET', key, value, 'PX', math.ceil(idle_at - now_ms))
  end
end
local function read(key)
  local v = redis.pcall('GET', key)
  -- Absent: nothing to delete later either (see write).
  if not v then return {t = none, p = none, s = none, f = none} end
  if type(v) ~= 'string' then return {t = none, p = none, s = none, f = none, x = true} end
  local head, t, p, s, f = string.match(v, '^(%S+) (%S+) (%S+) (%S+) (%S+)$')
  t, p, s, f = field(t), field(p), field(s), field(f)
  if head ~= 'bwb1' or not (t and p and s and f) then
    return {t = none, p = none, s = none, f = none, x = true}
  end
  local st = {t = t, p = p, s = s, f = f, x = true}
  if p > now_ms + max_pause then
    st.p = now_ms + max_pause
    write(key, st)
  end
  return st
end
`

/**
 * KEYS: the buckets of one call. ARGV: maxWait (ms, -1: none), then per bucket cost, capacity,
 * ms per token. Every bucket admits the call and is debited, or none is touched. Replies one
 * string, `1 <wait> <binding> <debit>... <spent>... <now>` or `0 <retryAfter ('inf': never)>
 * <binding> <exceedsCapacity> <spent>...`, each spent `<full> <paused>` (ms from now, the state
 * after the decision; absent when the cost exceeds a capacity), `now` Redis' time of the
 * decision: node-redis reads a bulk string faster than an array (a few µs a call).
 */
export const acquireScript = new RedisScript(`${luaState}
local max_wait = tonumber(ARGV[1])
local n = #KEYS
local states, costs, steps = {}, {}, {}
local start, binding = now_ms, 1
for i = 1, n do
  local cost = tonumber(ARGV[3 * i - 1])
  local capacity = tonumber(ARGV[3 * i])
  local step = tonumber(ARGV[3 * i + 1])
  if cost > capacity then return '0 inf ' .. i .. ' 1' end
  local st = read(KEYS[i])
  states[i], costs[i], steps[i] = st, cost, step
  local own = math.max(st.p, math.max(st.t, now_ms) + (cost - capacity) * step)
  if own > start then start, binding = own, i end
end
local function spent(reply)
  for i = 1, n do
    local st = states[i]
    reply[#reply + 1] = fmt(math.max(0, st.t - now_ms)) .. ' ' .. fmt(math.max(0, st.p - now_ms))
  end
  return reply
end
local wait = start - now_ms
if max_wait >= 0 and wait > max_wait then
  return table.concat(spent({'0', fmt(wait), binding, '0'}), ' ')
end
local reply = {'1', fmt(wait), binding}
for i = 1, n do
  local st = states[i]
  local tat = math.max(st.t, start) + costs[i] * steps[i]
  reply[i + 3] = fmt(tat - math.max(st.t, now_ms))
  st.t = tat
  write(KEYS[i], st)
end
local granted = spent(reply)
granted[#granted + 1] = fmt(now_ms)
return table.concat(granted, ' ')`)

/** KEYS: buckets. ARGV: the debit of each. Gives a reservation back, never below the floor. */
export const refundScript = new RedisScript(`${luaState}
for i = 1, #KEYS do
  local st = read(KEYS[i])
  st.t = math.max(st.t - tonumber(ARGV[i]), st.f)
  write(KEYS[i], st)
end
return 1`)

/**
 * KEYS: one bucket. ARGV: delta (tokens), ms per token, capacity. A negative delta is a debt,
 * held to maxTimerMs past empty as in `token-bucket.ts`.
 */
export const adjustScript = new RedisScript(`${luaState}
local st = read(KEYS[1])
local delta = tonumber(ARGV[1])
local step = tonumber(ARGV[2])
local moved = delta * step
if delta >= 0 then
  st.t = math.max(st.t - moved, st.f)
else
  local deepest = now_ms + tonumber(ARGV[3]) * step + ${maxTimerMs}
  st.t = math.max(st.t, math.min(math.max(st.t, now_ms) - moved, deepest))
end
write(KEYS[1], st)
return 1`)

/**
 * KEYS: buckets. ARGV: ms to hold them, clamped to maxServerWaitMs; a shorter pause never cuts
 * a longer one.
 */
export const pauseScript = new RedisScript(`${luaState}
local till = now_ms + math.min(tonumber(ARGV[1]), max_pause)
for i = 1, #KEYS do
  local st = read(KEYS[i])
  st.p = math.max(st.p, till)
  write(KEYS[i], st)
end
return 1`)

/**
 * KEYS: buckets. ARGV: the response's server time (ms), then per bucket remaining, capacity,
 * ms per token. Never raises a bucket; a response older than the last applied changes nothing.
 */
export const lowerScript = new RedisScript(`${luaState}
local at = tonumber(ARGV[1])
for i = 1, #KEYS do
  local st = read(KEYS[i])
  if at >= st.s then
    local remaining = tonumber(ARGV[3 * i - 1])
    local capacity = tonumber(ARGV[3 * i])
    local floor = now_ms + (capacity - remaining) * tonumber(ARGV[3 * i + 1])
    st.t = math.max(st.t, floor)
    st.s = at
    st.f = floor
    write(KEYS[i], st)
  end
end
return 1`)

/**
 * KEYS: buckets. ARGV: per bucket ms until it is full, ms until its pause ends, as the local
 * share that stood in for Redis left it. Makes each at least that spent, never less.
 */
export const spendScript = new RedisScript(`${luaState}
for i = 1, #KEYS do
  local st = read(KEYS[i])
  st.t = math.max(st.t, now_ms + tonumber(ARGV[2 * i - 1]))
  st.p = math.max(st.p, now_ms + math.min(tonumber(ARGV[2 * i]), max_pause))
  write(KEYS[i], st)
end
return 1`)

/** KEYS: one bucket. ARGV: capacity, ms per token. Replies the tokens in it now. */
export const balanceScript = new RedisScript(`${luaState}
local st = read(KEYS[1])
local capacity = tonumber(ARGV[1])
return fmt(capacity - math.max(0, st.t - now_ms) / tonumber(ARGV[2]))`)
