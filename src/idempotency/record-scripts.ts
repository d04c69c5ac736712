/**
 * The Lua of `RedisRecordStore`, one script per step so that each step is one round trip and
 * atomic. A record is one string key:
 *
 *   in flight  `bwrec1:i:<fingerprint>:<token>`   with PX = the lease
 *   done       `bwrec1:d:<fingerprint>:<outcome>` with PX = the TTL
 *
 * The fingerprint is a 64-char hex digest, so every field sits at a fixed place and a script
 * checks a token or a fingerprint with `string.sub`, never parsing the outcome. Whatever else
 * is under the key (another program's value, another type, a truncated write) is no record:
 * `claim` takes its place and says so.
 */
import { RedisScript } from '../redis/scripts.js'

/** The head of every record; the version lets a later layout tell its records apart. */
const recordHead = 'bwrec1:'

// Positions (1-based, as Lua counts): state at 8, fingerprint 10..73, payload from 75.
const luaIsRecord = `local function is_record(v)
  if type(v) ~= 'string' or string.len(v) < 75 or string.sub(v, 1, 7) ~= '${recordHead}' then
    return false
  end
  local state = string.sub(v, 8, 8)
  return (state == 'i' or state == 'd') and string.sub(v, 9, 9) == ':'
    and string.sub(v, 74, 74) == ':'
end
`

// A GET that answers a key of another type with false, not WRONGTYPE.
const luaOwned = `${luaIsRecord}local v = redis.pcall('GET', KEYS[1])
local owned = is_record(v) and string.sub(v, 8, 8) == 'i' and string.sub(v, 75) == ARGV[1]
`

/**
 * KEYS: record. ARGV: fingerprint, token, lease ms. Takes a free record with `SET NX PX`;
 * otherwise answers `conflict`, `inFlight` or `done` with the outcome, its SHA1 (what
 * `replace` checks) and the ms left of its TTL. What is no record is replaced by this claim:
 * `replaced`.
 */
export const claimScript = new RedisScript(`${luaIsRecord}
local mine = '${recordHead}i:' .. ARGV[1] .. ':' .. ARGV[2]
if redis.call('SET', KEYS[1], mine, 'NX', 'PX', ARGV[3]) then return {'claimed'} end
local v = redis.pcall('GET', KEYS[1])
if not is_record(v) then
  redis.call('SET', KEYS[1], mine, 'PX', ARGV[3])
  return {'replaced'}
end
if string.sub(v, 10, 73) ~= ARGV[1] then return {'conflict'} end
if string.sub(v, 8, 8) == 'i' then return {'inFlight'} end
local outcome = string.sub(v, 75)
return {'done', outcome, redis.sha1hex(outcome), redis.call('PTTL', KEYS[1])}`)

/**
 * KEYS: record. ARGV: fingerprint, token, lease ms, SHA1 of the outcome. Claims a done record
 * whose outcome turned out unreadable, only if it is still that one (by its SHA1): 1 or 0.
 */
export const replaceScript = new RedisScript(`${luaIsRecord}
local v = redis.pcall('GET', KEYS[1])
if not is_record(v) or string.sub(v, 8, 8) ~= 'd' or string.sub(v, 10, 73) ~= ARGV[1]
  or redis.sha1hex(string.sub(v, 75)) ~= ARGV[4] then
  return 0
end
redis.call('SET', KEYS[1], '${recordHead}i:' .. ARGV[1] .. ':' .. ARGV[2], 'PX', ARGV[3])
return 1`)

/** KEYS: record. ARGV: token, lease ms. Extends the lease while the token holds it: 1 or 0. */
export const renewScript = new RedisScript(`${luaOwned}
if not owned then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])`)

/**
 * KEYS: record. ARGV: token, outcome, TTL ms. Turns the token's in-flight record into a done
 * one, keeping its fingerprint: 1, or 0 (and nothing written) when the token lost it.
 */
export const completeScript = new RedisScript(`${luaOwned}
if not owned then return 0 end
redis.call('SET', KEYS[1], '${recordHead}d:' .. string.sub(v, 10, 73) .. ':' .. ARGV[2], 'PX', ARGV[3])
return 1`)

/** KEYS: record. ARGV: token. Deletes the token's in-flight record: 1 or 0. */
export const releaseScript = new RedisScript(`${luaOwned}
if not owned then return 0 end
return redis.call('DEL', KEYS[1])`)

/** KEYS: record. ms left on the lease of an in-flight record; -1 when it is not in flight. */
export const leaseLeftScript = new RedisScript(`${luaIsRecord}
local v = redis.pcall('GET', KEYS[1])
if not is_record(v) or string.sub(v, 8, 8) ~= 'i' then return -1 end
return redis.call('PTTL', KEYS[1])`)
