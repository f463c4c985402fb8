function on_invite(call)
  call:set_to("999")
end

function on_answer(call)
  error("boom")
end

function test_passes()
  tl.test.eq({1, {a = "x"}}, {1, {a = "x"}})
end

function test_eq_fails()
  tl.test.eq(1 + 1, 3, "arithmetic")
end

function test_truthy_fails()
  tl.test.truthy(nil, "a value")
end

function test_hook_changes()
  local c = tl.test.call{to = "123"}
  tl.test.run("on_invite", c)
  tl.test.eq(c.to, "124")
end

function test_hook_errors()
  tl.test.run("on_answer", tl.test.call{})
end

function test_overrun()
  while true do end
end
