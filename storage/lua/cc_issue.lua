-- cc_issue.lua (IssueClientCredentials): stores an access token into a
-- live client-credentials grant of the client that is not full.
-- KEYS[1] grant
-- ARGV[1] now (ms), ARGV[2] new grant expiry (ms), ARGV[3] client ID,
--         ARGV[4] the most fields the grant may hold, ARGV[5..] the issue
--         arguments (see issue in grant.lua)
-- Reply: {1, g, c, w, o} (the grant's fields before the token) when
--        stored; {0} when the grant is not live, not the client's, or full.
local now = tonumber(ARGV[1])
local m = redis.call('HMGET', KEYS[1], 'g', 'c', 'w', 'o')
if not glive(m[1], now) or m[2] ~= ARGV[3] then return {0} end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then return {0} end
issue(KEYS[1], m[1], now, ARGV[2], 5, 2)
return {1, m[1], m[2], m[3], m[4]}
