-- redeem.lua (RedeemCode, RotateRefresh): consumes a code or refresh token
-- and stores the new tokens; a used one revokes its grant.
-- KEYS and ARGV[1..6] as redeem in grant.lua; ARGV[7..] the issue
-- arguments.
-- Reply: {0} not found; {2, grants, tokens} replayed; {1} done.
local now = tonumber(ARGV[1])
local stop, v, k, g = presented(now)
if stop then return stop end
redeem(v, k, g, now, 7)
return {1}
