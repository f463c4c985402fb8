function on_invite(call)
  if call.to == "1" then
    local x = = 1
  end
end

function test_never_runs()
end
