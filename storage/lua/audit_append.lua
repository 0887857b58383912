-- audit_append.lua (AppendEvent): adds an event to the audit stream and
-- trims the stream by time: entries whose IDs (Redis's clock in ms) are
-- older than the new entry's by more than the retention go. Trimming is
-- approximate (whole stream nodes), so an entry may outlive the retention
-- a little; it is never trimmed by count.
-- KEYS[1] the audit stream
-- ARGV[1] the event (JSON), ARGV[2] retention (ms)
-- Reply: the new entry's ID.
local id = redis.call('XADD', KEYS[1], '*', 'e', ARGV[1])
local ms = tonumber(string.match(id, '^(%d+)'))
local minid = ms - tonumber(ARGV[2])
if minid > 0 then
  redis.call('XTRIM', KEYS[1], 'MINID', '~', minid)
end
return id
