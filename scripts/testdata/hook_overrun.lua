function on_invite(call)
  while true do end
end

function test_hook_overrun()
  tl.test.run("on_invite", tl.test.call{to = "1"})
end
