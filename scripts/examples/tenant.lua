-- Tenant routing by header: a PBX platform marks each call with X-Tenant;
-- the call is routed on that tenant's route, and the tenant is stamped on
-- every outbound INVITE. Unknown tenants are refused.

local routes = {
  acme = "acme-main",
  globex = "globex-eu",
}

function on_invite(call)
  local tenant = call:header("X-Tenant")
  if tenant == nil then
    call:reject(403, "Missing tenant")
    return
  end
  tenant = string.lower(tenant)
  local route = routes[tenant]
  if route == nil then
    call:reject(403, "Unknown tenant")
    return
  end
  call.vars.tenant = tenant
  call:remove_header("X-Tenant") -- internal: not passed on
  call:set_route(route)
end

function on_attempt(call, attempt)
  if call.vars.tenant then
    attempt.headers["X-Tenant-Id"] = call.vars.tenant
  end
end

-- Tests: trunkline script test scripts/examples/tenant.lua

function test_routes_known_tenant()
  local c = tl.test.call{from = "3312345", to = "442071234567", headers = {["x-tenant"] = "ACME"}}
  tl.test.run("on_invite", c)
  tl.test.eq(c.rejected, nil, "not rejected")
  tl.test.eq(c.route, "acme-main")
  tl.test.eq(c.vars.tenant, "acme")
  tl.test.eq(c.headers["x-tenant"], nil, "tenant header removed")
end

function test_rejects_unknown_tenant()
  local c = tl.test.call{from = "3312345", to = "442071234567", headers = {["X-Tenant"] = "initech"}}
  tl.test.run("on_invite", c)
  tl.test.eq(c.rejected, {code = 403, reason = "Unknown tenant"})
  tl.test.eq(c.route, nil)
end

function test_rejects_missing_tenant()
  local c = tl.test.call{from = "3312345", to = "442071234567"}
  tl.test.run("on_invite", c)
  tl.test.eq(c.rejected.code, 403)
end

function test_stamps_outbound_invite()
  local c = tl.test.call{to = "442071234567", headers = {["X-Tenant"] = "globex"}}
  tl.test.run("on_invite", c)
  local hs = tl.test.run("on_attempt", c, {type = "SIP", sipTrunkId = "pbx-a"})
  tl.test.eq(hs, {["X-Tenant-Id"] = "globex"})
end
