/**
 * The Lua of `RedisRecordStore`, one script per step so that each step is one round trip and
 * atomic. A record is one string key:
 *
 *   in flight  `bwrec1:i:<fingerprint>:<lease end>:<keep>:<mark>:<token>`
 *              with PX = what is left of the lease, plus keep
 *   abandoned  `bwrec1:a:<fingerprint>:<lease end>` with PX = keep
 *   done       `bwrec1:d:<fingerprint>:<outcome>` with PX = the TTL
 *
 * The lease is data: its end, in ms on Redis' own clock (`TIME`), is judged by every script
 * that reads the record, so that a lease that lapsed (its holder died or stalled) is known for
 * what it is. `mark` is 0 while nothing was sent, 2 once the holder said its call was about to
 * leave, 1 when the holder took over an abandoned record (the earlier call may have been
 * applied, whatever this holder does). A marked record whose lease lapsed stands abandoned, for
 * `keep` ms past its lease: a holder sent its call, or may have, and never said how it ended; and
 * a release of a record marked 1 gives it back abandoned. A record marked 0 whose lease lapsed
 * is free: the next claim takes it as it would an absent one.
 *
 * The fingerprint is a 64-char hex digest and the numbers are 15 digits, so every field sits at
 * a fixed place and a script reads one with `string.sub`, never parsing the outcome. An in-flight
 * record of the layout before this one (`bwrec1:i:<fingerprint>:<token>`, its lease only the
 * key's PX) is still read as in flight until the key ends; it is then gone, not abandoned, as it
 * was, as is one of this layout never marked: neither says anything was sent. Such a record's
 * writer reads these in-flight records as in flight too, and the abandoned ones as no record,
 * which it takes over: what it did with a lapsed lease before. Whatever else
 * is under the key (another program's value, another type, a truncated write) is no record:
 * `claim` takes its place and says so.
 */
import { luaNowMs, RedisScript } from '../redis/scripts.js'

/** The head of every record; the version lets a later layout tell its records apart. */
const recordHead = 'bwrec1:'

// Positions (1-based, as Lua counts): state at 8, fingerprint 10..73, payload from 75; in an
// in-flight record, lease end 75..89, keep 91..105, mark at 107, token from 109.
const luaRecord = `local function is_record(v)
  if type(v) ~= 'string' or string.len(v) < 75 or string.sub(v, 1, 7) ~= '${recordHead}' then
    return false
  end
  local state = string.sub(v, 8, 8)
  return (state == 'i' or state == 'd' or state == 'a') and string.sub(v, 9, 9) == ':'
    and string.sub(v, 74, 74) == ':'
end
local function is_leased(v)
  return string.sub(v, 8, 8) == 'i' and string.len(v) > 109 and string.sub(v, 90, 90) == ':'
    and string.sub(v, 106, 106) == ':' and string.sub(v, 108, 108) == ':'
end
local function pad(n)
  return string.format('%015d', n)
end
local function in_flight(fingerprint, lease_end, keep, mark, token)
  return '${recordHead}i:' .. fingerprint .. ':' .. pad(lease_end) .. ':' .. pad(keep) .. ':'
    .. mark .. ':' .. token
end
`

// A GET that answers a key of another type with false, not WRONGTYPE; owned while the token
// holds it, even past its lease when no one has taken it over since.
const luaOwned = `${luaRecord}${luaNowMs}local v = redis.pcall('GET', KEYS[1])
local owned = is_record(v) and is_leased(v) and string.sub(v, 109) == ARGV[1]
`

/**
 * KEYS: record. ARGV: fingerprint, token, lease ms, keep ms. Takes a free record, or one whose
 * lease lapsed unmarked (`claimed`), or a marked one whose lease lapsed or one that stands
 * abandoned (`abandoned`); otherwise answers
 * `conflict`, `inFlight` or `done` with the outcome, its SHA1 (what `replace` checks) and the
 * ms left of its TTL. What is no record is replaced by this claim: `replaced`.
 */
export const claimScript = new RedisScript(`${luaRecord}${luaNowMs}
local lease, keep = tonumber(ARGV[3]), tonumber(ARGV[4])
local function take(mark)
  redis.call('SET', KEYS[1], in_flight(ARGV[1], now_ms + lease, keep, mark, ARGV[2]),
    'PX', lease + keep)
end
local v = redis.pcall('GET', KEYS[1])
if not v then
  take('0')
  return {'claimed'}
end
if not is_record(v) then
  take('0')
  return {'replaced'}
end
if string.sub(v, 10, 73) ~= ARGV[1] then return {'conflict'} end
local state = string.sub(v, 8, 8)
if state == 'd' then
  local outcome = string.sub(v, 75)
  return {'done', outcome, redis.sha1hex(outcome), redis.call('PTTL', KEYS[1])}
end
if state == 'i' and (not is_leased(v) or tonumber(string.sub(v, 75, 89)) > now_ms) then
  return {'inFlight'}
end
if state == 'i' and string.sub(v, 107, 107) == '0' then
  take('0')
  return {'claimed'}
end
take('1')
return {'abandoned'}`)

/**
 * KEYS: record. ARGV: fingerprint, token, lease ms, SHA1 of the outcome, keep ms. Claims a done
 * record whose outcome turned out unreadable, only if it is still that one (by its SHA1): 1 or 0.
 */
export const replaceScript = new RedisScript(`${luaRecord}${luaNowMs}
local v = redis.pcall('GET', KEYS[1])
if not is_record(v) or string.sub(v, 8, 8) ~= 'd' or string.sub(v, 10, 73) ~= ARGV[1]
  or redis.sha1hex(string.sub(v, 75)) ~= ARGV[4] then
  return 0
end
local lease, keep = tonumber(ARGV[3]), tonumber(ARGV[5])
redis.call('SET', KEYS[1], in_flight(ARGV[1], now_ms + lease, keep, '0', ARGV[2]),
  'PX', lease + keep)
return 1`)

/** KEYS: record. ARGV: token, lease ms. Extends the lease while the token holds it: 1 or 0. */
export const renewScript = new RedisScript(`${luaOwned}
if not owned then return 0 end
local lease, keep = tonumber(ARGV[2]), tonumber(string.sub(v, 91, 105))
redis.call('SET', KEYS[1],
  in_flight(string.sub(v, 10, 73), now_ms + lease, keep, string.sub(v, 107, 107), ARGV[1]),
  'PX', lease + keep)
return 1`)

/**
 * KEYS: record. ARGV: token. Marks the token's unmarked in-flight record sent (2), its lease and
 * its expiry as they were: 1, or 0 when the token lost it.
 */
export const markSentScript = new RedisScript(`${luaOwned}
if not owned then return 0 end
if string.sub(v, 107, 107) ~= '0' then return 1 end
redis.call('SET', KEYS[1], string.sub(v, 1, 106) .. '2' .. string.sub(v, 108),
  'PX', math.max(1, redis.call('PTTL', KEYS[1])))
return 1`)

/**
 * KEYS: record. ARGV: token, outcome, TTL ms. Turns the token's in-flight record into a done
 * one, keeping its fingerprint: 1, or 0 (and nothing written) when the token lost it.
 */
export const completeScript = new RedisScript(`${luaOwned}
if not owned then return 0 end
redis.call('SET', KEYS[1], '${recordHead}d:' .. string.sub(v, 10, 73) .. ':' .. ARGV[2], 'PX', ARGV[3])
return 1`)

/**
 * KEYS: record. ARGV: token. Lets the token's in-flight record go: deleted, sent or not, or
 * abandoned again for its keep when the token took it over abandoned (marked 1). 1, or 0 when
 * the token lost it.
 */
export const releaseScript = new RedisScript(`${luaOwned}
if not owned then return 0 end
if string.sub(v, 107, 107) ~= '1' then return redis.call('DEL', KEYS[1]) end
redis.call('SET', KEYS[1], '${recordHead}a:' .. string.sub(v, 10, 89),
  'PX', tonumber(string.sub(v, 91, 105)))
return 1`)

/**
 * KEYS: record. ms left on the lease of an in-flight record; -1 when it is not in flight, or its
 * lease lapsed.
 */
export const leaseLeftScript = new RedisScript(`${luaRecord}${luaNowMs}
local v = redis.pcall('GET', KEYS[1])
if not is_record(v) or string.sub(v, 8, 8) ~= 'i' then return -1 end
if not is_leased(v) then return redis.call('PTTL', KEYS[1]) end
local left = tonumber(string.sub(v, 75, 89)) - now_ms
if left <= 0 then return -1 end
return left`)
