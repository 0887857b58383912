-- redeem_checked.lua (RedeemChecked): redeem.lua after checking the
-- caller's client, a code's redirect URI and PKCE challenge. Nothing is
-- consumed when a check fails.
-- KEYS and ARGV[1..6] as redeem in grant.lua; ARGV[7] client ID, ARGV[8]
-- redirect URI, ARGV[9] PKCE challenge of the presented verifier ("" for
-- none), ARGV[10] "1" when PKCE is required; ARGV[11..] the issue
-- arguments, where a scope set ID "=" means the presented token's.
-- Reply: {0} not found; {2, grants, tokens} replayed; {3, what failed};
--        {1, g, c, w, o, the presented token's scope set ID}.
local now = tonumber(ARGV[1])
local stop, v, k, g = presented(now)
if stop then return stop end
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
