-- issue.lua (IssueTokens): stores tokens into a live grant, extending it.
-- KEYS[1] grant, KEYS[2..] the new codes' parameter keys
-- ARGV[1] now (ms), ARGV[2] new grant expiry (ms), ARGV[3..] the issue
--         arguments (see issue in grant.lua)
-- Reply: 1 stored, 0 the grant is not live (nothing written).
local now = tonumber(ARGV[1])
local g = redis.call('HGET', KEYS[1], 'g')
if not glive(g, now) then return 0 end
issue(KEYS[1], g, now, ARGV[2], 3, 2)
return 1
