-- revoke_grant.lua (RevokeGrant, RevokeClient, RevokeWebsite): revokes a
-- grant and deletes its live tokens. A grant whose owner differs is left
-- alone.
-- KEYS[1] grant
-- ARGV[1] now (ms), ARGV[2] owner field ('c' or 'w', or "" for no check),
--         ARGV[3] owner ID
-- Reply: {grants, tokens, client ID or false, website ID or false}.
local m = redis.call('HMGET', KEYS[1], 'g', 'c', 'w')
if ARGV[2] ~= '' and redis.call('HGET', KEYS[1], ARGV[2]) ~= ARGV[3] then
  return {0, 0, false, false}
end
local gr, tr = revoke(KEYS[1], m[1], tonumber(ARGV[1]))
return {gr, tr, m[2], m[3]}
