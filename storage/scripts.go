package storage

import "github.com/redis/go-redis/v9"

// Lua scripts. Each touches the keys of one grant only (one hash tag, one
// Cluster slot), so each is one atomic step on every Redis deployment. Every
// key a script touches is passed in KEYS. Times are Unix milliseconds; "now"
// always comes from the store's clock (RedisOptions.Now), never from Redis,
// so that all expiry decisions follow one clock.
//
// KEYS[1] is always the grant's hash; its layout is described in record.go.

// luaPrelude holds the helpers the grant scripts share.
const luaPrelude = `
-- u48 reads the 6-byte big-endian time at s[i]; b48 writes one.
local function u48(s, i)
  local a, b, c, d, e, f = string.byte(s, i, i + 5)
  return ((((a * 256 + b) * 256 + c) * 256 + d) * 256 + e) * 256 + f
end
local function b48(x)
  local t = {}
  for j = 6, 1, -1 do
    t[j] = x % 256
    x = math.floor(x / 256)
  end
  return string.char(t[1], t[2], t[3], t[4], t[5], t[6])
end
local function gexp(g) return u48(g, 1) end
local function grevoked(g) return string.sub(g, 7, 7) == '1' end
local function glive(g, now) return g and (not grevoked(g)) and gexp(g) > now end
local function texp(v) return u48(v, 2) end
local function islive(k) return k == 'a' or k == 'r' or k == 'c' end
local TOKEN_FIELD_LEN = 16

local function hdelall(gk, fields)
  for i = 1, #fields, 500 do
    redis.call('HDEL', gk, unpack(fields, i, math.min(i + 499, #fields)))
  end
end

-- revoke flags the grant revoked (the key keeps its TTL) and deletes its
-- live tokens. Used markers stay, so a later replay still reads as one.
-- Returns how many live grants and live tokens it killed.
local function revoke(gk, g, now)
  if not g or grevoked(g) then return 0, 0 end
  redis.call('HSET', gk, 'g', string.sub(g, 1, 6) .. '1' .. string.sub(g, 8))
  local grants = 0
  if gexp(g) > now then grants = 1 end
  local n, del = 0, {}
  local all = redis.call('HGETALL', gk)
  for i = 1, #all, 2 do
    local v = all[i + 1]
    if #all[i] == TOKEN_FIELD_LEN and islive(string.sub(v, 1, 1)) then
      if texp(v) > now then n = n + 1 end
      del[#del + 1] = all[i]
    end
  end
  hdelall(gk, del)
  return grants, n
end

-- prune drops expired token records from a big grant, amortised: only when
-- the hash has doubled since the last prune (field 'p').
local function prune(gk, now)
  local n = redis.call('HLEN', gk)
  if n < 64 then return end
  local last = tonumber(redis.call('HGET', gk, 'p') or '0')
  if n < 2 * last then return end
  local all = redis.call('HGETALL', gk)
  local del = {}
  for i = 1, #all, 2 do
    if #all[i] == TOKEN_FIELD_LEN and texp(all[i + 1]) <= now then del[#del + 1] = all[i] end
  end
  hdelall(gk, del)
  redis.call('HSET', gk, 'p', tostring(redis.call('HLEN', gk)))
end

-- issue stores tokens into the live grant whose field g is g, and extends
-- the grant (its expiry and its key's TTL) to newexp (ms) when later. Its
-- arguments start at ARGV[i]: ntok, ntok × (field, header, scope set ID),
-- nside, nside × (value, ttl ms) for the code parameter keys KEYS[ki],
-- KEYS[ki+1], ...
local function issue(gk, g, now, newexp, i, ki)
  local gss = string.sub(g, 14)
  local ntok = tonumber(ARGV[i]); i = i + 1
  local hs = {}
  for t = 1, ntok do
    hs[#hs + 1] = ARGV[i]
    if ARGV[i + 2] == gss then
      hs[#hs + 1] = ARGV[i + 1]
    else
      hs[#hs + 1] = ARGV[i + 1] .. ARGV[i + 2]
    end
    i = i + 3
  end
  local exp = gexp(g)
  newexp = tonumber(newexp)
  if newexp > exp then
    hs[#hs + 1] = 'g'
    hs[#hs + 1] = b48(newexp) .. string.sub(g, 7)
    exp = newexp
  end
  if #hs > 0 then redis.call('HSET', gk, unpack(hs)) end
  local nside = tonumber(ARGV[i]); i = i + 1
  for s = 1, nside do
    redis.call('SET', KEYS[ki + s - 1], ARGV[i], 'PX', ARGV[i + 1])
    i = i + 2
  end
  local ttl = exp - now
  if ttl < 1000 then ttl = 1000 end
  redis.call('PEXPIRE', gk, ttl)
  prune(gk, now)
end
`

// createGrantScript: KEYS grant; ARGV ttl ms, then field/value pairs.
// Returns 1, or 0 if the grant exists.
var createGrantScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`)

// issueScript: KEYS grant, code parameter keys...; ARGV now, newexp, then
// the issue arguments. Returns 1, or 0 when the grant is not live.
var issueScript = redis.NewScript(luaPrelude + `
local now = tonumber(ARGV[1])
local g = redis.call('HGET', KEYS[1], 'g')
if not glive(g, now) then return 0 end
issue(KEYS[1], g, now, ARGV[2], 3, 2)
return 1
`)

// ccIssueScript (IssueClientCredentials): KEYS grant; ARGV now, newexp,
// client ID, the most fields the grant may hold, then the issue arguments.
// Stores the token only in a live grant of that client that is not full.
// Returns {1, g, c, w, o}, {0} (not live) or {0, 'full'}.
var ccIssueScript = redis.NewScript(luaPrelude + `
local now = tonumber(ARGV[1])
local m = redis.call('HMGET', KEYS[1], 'g', 'c', 'w', 'o')
if not glive(m[1], now) or m[2] ~= ARGV[3] then return {0} end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then return {0, 'full'} end
issue(KEYS[1], m[1], now, ARGV[2], 5, 2)
return {1, m[1], m[2], m[3], m[4]}
`)

// usedCheck is the common start of the code and refresh scripts: KEYS
// grant; ARGV now, field, kind. It returns early with {0} (not found) or
// {2, grants, tokens} (replayed: the grant is revoked now).
const usedCheck = `
local now = tonumber(ARGV[1])
local v = redis.call('HGET', KEYS[1], ARGV[2])
local g = redis.call('HGET', KEYS[1], 'g')
if not v or not g then return {0} end
local k = string.sub(v, 1, 1)
if texp(v) <= now then return {0} end
if k == string.upper(ARGV[3]) then
  local gr, tr = revoke(KEYS[1], g, now)
  return {2, gr, tr}
end
if k ~= ARGV[3] or not glive(g, now) then return {0} end
`

// peekScript (GetCode, GetRefresh): KEYS grant[, code parameters]; ARGV
// now, field, kind. Returns {0}, {2, ...}, or {1, token, code parameters,
// g, c, w, o}.
var peekScript = redis.NewScript(luaPrelude + usedCheck + `
local p = false
if KEYS[2] then p = redis.call('GET', KEYS[2]) end
local m = redis.call('HMGET', KEYS[1], 'g', 'c', 'w', 'o')
return {1, v, p, m[1], m[2], m[3], m[4]}
`)

// luaRedeem is the common end of the redeem scripts: KEYS grant,
// parameters of the presented code (a never-written key for a refresh
// token), then the new codes' parameters; ARGV now, field, kind, floor and
// cap (ms each: the used marker is kept until the token's own expiry,
// raised to floor and lowered to cap when cap is not 0), newexp; the issue
// arguments start at ARGV[ai].
const luaRedeem = `
local function redeem(v, k, g, now, ai)
  local keep = texp(v)
  if tonumber(ARGV[4]) > keep then keep = tonumber(ARGV[4]) end
  if tonumber(ARGV[5]) > 0 and tonumber(ARGV[5]) < keep then keep = tonumber(ARGV[5]) end
  redis.call('HSET', KEYS[1], ARGV[2], string.upper(k) .. b48(keep))
  redis.call('DEL', KEYS[2])
  issue(KEYS[1], g, now, ARGV[6], ai, 3)
end
`

// redeemScript (RedeemCode, RotateRefresh): KEYS and ARGV as luaRedeem,
// the issue arguments from ARGV[7]. Returns {0}, {2, ...} or {1}.
var redeemScript = redis.NewScript(luaPrelude + luaRedeem + usedCheck + `
redeem(v, k, g, now, 7)
return {1}
`)

// redeemCheckedScript (RedeemChecked): KEYS and ARGV as luaRedeem, then
// ARGV[7..10] client ID, redirect URI, PKCE challenge of the presented
// verifier ("" for none), "1" when PKCE is required; the issue arguments
// from ARGV[11], where a scope set ID "=" means the presented token's.
// Nothing is consumed when a check fails. Returns {0}, {2, ...}, {3,
// what failed} or {1, g, c, w, o, presented token's scope set ID}.
var redeemCheckedScript = redis.NewScript(luaPrelude + luaRedeem + usedCheck + `
local m = redis.call('HMGET', KEYS[1], 'c', 'w', 'o')
if m[1] ~= ARGV[7] then return {3, 'client_id'} end
if k == 'c' then
  local p = redis.call('GET', KEYS[2])
  if not p then return {0} end
  local cp = cjson.decode(p)
  if (cp.r or '') ~= ARGV[8] then return {3, 'redirect_uri'} end
  local ch = cp.c or ''
  if ch == '' then
    if ARGV[10] == '1' then return {3, 'pkce_required'} end
    if ARGV[9] ~= '' then return {3, 'code_verifier_unexpected'} end
  else
    if ARGV[9] == '' then return {3, 'code_verifier_missing'} end
    if cp.m ~= 'S256' or ch ~= ARGV[9] then return {3, 'code_verifier'} end
  end
end
local pss = string.sub(v, 14)
if pss == '' then pss = string.sub(g, 14) end
for t = 1, tonumber(ARGV[11]) do
  local j = 11 + 3 * t
  if ARGV[j] == '=' then ARGV[j] = pss end
end
redeem(v, k, g, now, 11)
return {1, g, m[1], m[2], m[3], pss}
`)

// revokeTokenScript: KEYS grant; ARGV now, field, kind. An access token
// alone, or the grant of a refresh token or code (live or used). A token
// not stored in the grant revokes nothing. Returns {grants, tokens[,
// client, website]}.
var revokeTokenScript = redis.NewScript(luaPrelude + `
local now = tonumber(ARGV[1])
local v = redis.call('HGET', KEYS[1], ARGV[2])
if not v then return {0, 0} end
local k = string.sub(v, 1, 1)
if string.lower(k) ~= ARGV[3] or texp(v) <= now then return {0, 0} end
if k == 'a' then
  redis.call('HDEL', KEYS[1], ARGV[2])
  return {0, 1}
end
local gr, tr = revoke(KEYS[1], redis.call('HGET', KEYS[1], 'g'), now)
local m = redis.call('HMGET', KEYS[1], 'c', 'w')
return {gr, tr, m[1], m[2]}
`)

// revokeGrantScript: KEYS grant; ARGV now, owner field ('c' or 'w', or
// empty for no check), owner ID. A grant whose owner differs is left alone.
// Returns {grants, tokens, client, website}.
var revokeGrantScript = redis.NewScript(luaPrelude + `
local m = redis.call('HMGET', KEYS[1], 'g', 'c', 'w')
if ARGV[2] ~= '' and redis.call('HGET', KEYS[1], ARGV[2]) ~= ARGV[3] then
  return {0, 0, false, false}
end
local gr, tr = revoke(KEYS[1], m[1], tonumber(ARGV[1]))
return {gr, tr, m[2], m[3]}
`)

// casScript: KEYS pointer; ARGV old ("" = absent), new. Sets the pointer
// to new only if it still holds old. Returns 1 or 0.
var casScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if (cur or '') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`)
