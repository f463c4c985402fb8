-- Fraud block: premium-rate destinations are refused at any hour; calls to
-- high-risk international prefixes are refused at night (22:00–06:00 UTC),
-- when nobody is in the office to make them.

local always = {"1900", "44871", "44872", "44873", "4490", "4491"}
local night_only = {"882", "883", "252", "675", "53"}

local function has_prefix(number, list)
  for _, p in ipairs(list) do
    if string.sub(number, 1, #p) == p then return p end
  end
  return nil
end

-- blocked returns the reason a call to number at hour (0–23, UTC) is refused.
function blocked(number, hour)
  local p = has_prefix(number, always)
  if p then return "premium destination " .. p end
  p = has_prefix(number, night_only)
  if p and (hour >= 22 or hour < 6) then return "high-risk destination " .. p .. " at night" end
  return nil
end

function on_invite(call)
  local hour = math.floor(tl.now() / 3600) % 24
  local reason = blocked(call.to, hour)
  if reason then
    tl.log("warn", "fraud block: " .. reason .. " from " .. call.from)
    call:reject(403, "Destination barred")
  end
end

function test_premium_always_blocked()
  tl.test.truthy(blocked("19005550100", 12), "1900 at noon")
  tl.test.truthy(blocked("448712345678", 3), "44871 at night")
  local c = tl.test.call{from = "3312345", to = "449012345678"}
  tl.test.run("on_invite", c)
  tl.test.eq(c.rejected, {code = 403, reason = "Destination barred"})
end

function test_high_risk_by_time_of_day()
  tl.test.eq(blocked("88212345", 12), nil, "day")
  tl.test.eq(blocked("88212345", 23), "high-risk destination 882 at night")
  tl.test.eq(blocked("25261234567", 5), "high-risk destination 252 at night")
  tl.test.eq(blocked("25261234567", 6), nil, "06:00 is day")
end

function test_ordinary_call_passes()
  tl.test.eq(blocked("442071234567", 2), nil)
  local c = tl.test.call{from = "3312345", to = "442071234567"}
  tl.test.run("on_invite", c)
  tl.test.eq(c.rejected, nil)
end
