-- grant.lua: helpers shared by the grant scripts (the loader in scripts.go
-- puts this file before each of them). Not a script on its own.
--
-- Every grant script touches the keys of one grant only (one hash tag, one
-- Cluster slot). KEYS[1] is always the grant's hash, laid out as record.go
-- describes. Times are Unix milliseconds; "now" always comes from the
-- store's clock (an argument), never from Redis.

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
-- arguments (the "issue arguments", built by tokenBatch in scripts.go)
-- start at ARGV[i]: ntok, ntok x (field, header, scope set ID), nside,
-- nside x (value, ttl ms) for the code parameter keys KEYS[ki],
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

-- presented reads the presented code or refresh token: KEYS[1] grant; ARGV
-- now, field, kind ('c' or 'r'). It returns a reply for the script to
-- return at once ({0}: not found or not live; {2, grants, tokens}: a used
-- one, replayed, so the grant is revoked now), or nil, then the token's
-- record, its kind letter and the grant's field g.
local function presented(now)
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
  return nil, v, k, g
end

-- redeem consumes the presented token (record v, kind k) of grant g and
-- stores the new tokens: KEYS[1] grant, KEYS[2] the presented code's
-- parameters (a never-written key for a refresh token), KEYS[3..] the new
-- codes' parameters; ARGV now, field, kind, floor and cap (ms each: the
-- used marker is kept until the token's own expiry, raised to floor and
-- lowered to cap when cap is not 0), newexp; the issue arguments start at
-- ARGV[ai].
local function redeem(v, k, g, now, ai)
  local keep = texp(v)
  if tonumber(ARGV[4]) > keep then keep = tonumber(ARGV[4]) end
  if tonumber(ARGV[5]) > 0 and tonumber(ARGV[5]) < keep then keep = tonumber(ARGV[5]) end
  redis.call('HSET', KEYS[1], ARGV[2], string.upper(k) .. b48(keep))
  redis.call('DEL', KEYS[2])
  issue(KEYS[1], g, now, ARGV[6], ai, 3)
end
