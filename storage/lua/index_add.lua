-- index_add.lua: adds a grant to a sharded grant index (index.go), splits
-- a shard that has grown to the split size, and optionally installs the
-- grant as the client's client-credentials grant. All keys share the
-- owner's hash tag (one slot).
-- KEYS[1] shard count, KEYS[2] the member's shard, KEYS[3] shard n-p,
--   KEYS[4] shard n (for n as guessed), KEYS[5] (optional) the client's
--   client-credentials pointer
-- ARGV[1] guessed n, ARGV[2] score, ARGV[3] member (grant ID), ARGV[4] now
--   (s), ARGV[5] split size, ARGV[6] (with KEYS[5]) the pointer's expected
--   value: the pointer is set to the member when it is absent or holds
--   this value, and left alone otherwise
-- Reply: {0, n} when the guess was wrong (nothing written); else {1, n, up
--   to 16 entries of the member's shard whose score is below now, the
--   pointer afterwards ("" without KEYS[5])}.

local function shard(m, n)
  local h = tonumber(string.sub(redis.sha1hex(m), 1, 8), 16)
  local p = 1
  while p * 2 <= n do p = p * 2 end
  local i = h % p
  if i < n - p then i = h % (2 * p) end
  return i
end

local function zaddall(key, sm)
  for i = 1, #sm, 500 do
    redis.call('ZADD', key, unpack(sm, i, math.min(i + 499, #sm)))
  end
end

local n = tonumber(redis.call('GET', KEYS[1]) or '1')
if n ~= tonumber(ARGV[1]) then return {0, n} end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
local cands = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[4], 'LIMIT', 0, 16)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then
  -- Rebuild shard n-p (a fresh key is a listpack again even if it had
  -- overflowed) and move the entries that now belong to shard n.
  local all = redis.call('ZRANGE', KEYS[3], 0, -1, 'WITHSCORES')
  local keep, move = {}, {}
  for i = 1, #all, 2 do
    local t = keep
    if shard(all[i], n + 1) == n then t = move end
    t[#t + 1] = all[i + 1]
    t[#t + 1] = all[i]
  end
  redis.call('DEL', KEYS[3])
  zaddall(KEYS[3], keep)
  zaddall(KEYS[4], move)
  n = n + 1
  redis.call('SET', KEYS[1], n)
end
local ptr = ''
if KEYS[5] then
  ptr = redis.call('GET', KEYS[5]) or ''
  if ptr == '' or ptr == ARGV[6] then
    redis.call('SET', KEYS[5], ARGV[3])
    ptr = ARGV[3]
  end
end
return {1, n, cands, ptr}
