-- revoke_token.lua (RevokeToken): revokes an access token alone, or the
-- grant of a refresh token or code (live or used). A token not stored in
-- the grant revokes nothing.
-- KEYS[1] grant
-- ARGV[1] now (ms), ARGV[2] token field, ARGV[3] kind ('a', 'r' or 'c')
-- Reply: {grants, tokens} for an access token or nothing revoked;
--        {grants, tokens, client ID, website ID or false} for a grant.
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
