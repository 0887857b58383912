-- peek.lua (GetCode, GetRefresh): reads an unused code or refresh token;
-- a used one revokes its grant.
-- KEYS[1] grant, KEYS[2] the code's parameters (absent for a refresh token)
-- ARGV[1] now (ms), ARGV[2] token field, ARGV[3] kind ('c' or 'r')
-- Reply: {0} not found; {2, grants, tokens} replayed (grant revoked now);
--        {1, record, parameters or false, g, c, w, o}.
local stop, v = presented(tonumber(ARGV[1]))
if stop then return stop end
local p = false
if KEYS[2] then p = redis.call('GET', KEYS[2]) end
local m = redis.call('HMGET', KEYS[1], 'g', 'c', 'w', 'o')
return {1, v, p, m[1], m[2], m[3], m[4]}
