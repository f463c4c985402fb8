-- Least-cost routing: reorder the plan by each carrier's price for the
-- longest matching prefix of the called number. Attempts on trunks without a
-- price for the destination keep their relative order after the priced ones.

local rates = {            -- price per minute, by trunk and prefix
  ["carrier-a"] = {["44"] = 0.012, ["447"] = 0.030, ["1"] = 0.004},
  ["carrier-b"] = {["44"] = 0.010, ["447"] = 0.045},
  ["carrier-c"] = {["4420"] = 0.008},
}

-- price returns the trunk's rate for number by longest prefix, or nil.
function price(trunk, number)
  local table_ = rates[trunk]
  if table_ == nil then return nil end
  for n = #number, 1, -1 do
    local r = table_[string.sub(number, 1, n)]
    if r then return r end
  end
  return nil
end

function on_route(call, plan)
  local ranked = {}
  for i, a in ipairs(plan) do
    ranked[i] = {attempt = a, cost = price(a.sipTrunkId or "", call.to) or math.huge, pos = i}
  end
  table.sort(ranked, function(x, y)
    if x.cost ~= y.cost then return x.cost < y.cost end
    return x.pos < y.pos
  end)
  local out = {}
  for i, r in ipairs(ranked) do out[i] = r.attempt end
  return out
end

local function plan()
  return {
    {type = "PHONE", sipTrunkId = "carrier-a", phoneNumber = "442071234567", priority = 1, weight = 1, connectTimeout = 60},
    {type = "PHONE", sipTrunkId = "carrier-b", phoneNumber = "442071234567", priority = 1, weight = 1, connectTimeout = 60},
    {type = "PHONE", sipTrunkId = "carrier-c", phoneNumber = "442071234567", priority = 2, weight = 1, connectTimeout = 60},
    {type = "PHONE", sipTrunkId = "carrier-z", phoneNumber = "442071234567", priority = 3, weight = 1, connectTimeout = 30},
  }
end

local function trunks(p)
  local ids = {}
  for i, a in ipairs(p) do ids[i] = a.sipTrunkId end
  return ids
end

function test_longest_prefix()
  tl.test.eq(price("carrier-a", "447700900123"), 0.030)
  tl.test.eq(price("carrier-a", "442071234567"), 0.012)
  tl.test.eq(price("carrier-c", "447700900123"), nil)
end

function test_london_cheapest_first()
  local c = tl.test.call{from = "3312345", to = "442071234567"}
  local p = tl.test.run("on_route", c, plan())
  tl.test.eq(trunks(p), {"carrier-c", "carrier-b", "carrier-a", "carrier-z"})
  tl.test.eq(p[4].connectTimeout, 30, "fields kept")
end

function test_mobile_reorders()
  local c = tl.test.call{to = "447700900123"}
  local p = tl.test.run("on_route", c, plan())
  tl.test.eq(trunks(p), {"carrier-a", "carrier-b", "carrier-c", "carrier-z"})
end
