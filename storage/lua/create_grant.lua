-- create_grant.lua: stores a new grant's hash unless the key exists.
-- KEYS[1] grant
-- ARGV[1] TTL (ms), ARGV[2..] field/value pairs (the grant's fields, and
--         for a client-credentials grant its first token's record)
-- Reply: 1 created, 0 the grant exists (nothing written).
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
