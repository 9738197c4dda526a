-- A main screen's mix: 70% GET /users/{id}, 10% a list page, 10% edits, 10% creates.
dofile("bench/lua/common.lua")
request = function()
  local dice = math.random(100)
  counter = counter + 1
  if dice <= 70 then
    return wrk.format("GET", "/users/" .. random_id())
  elseif dice <= 80 then
    return wrk.format("GET", "/users?limit=50")
  elseif dice <= 90 then
    return wrk.format("PATCH", "/users/" .. random_id(), nil,
      string.format('{"job_title":"Functie %s-%d"}', prefix, counter))
  else
    return wrk.format("POST", "/users", nil, string.format(
      '{"email":"m%s-%d@bench.example.nl","first_name":"Gemengd","last_name":"Gebruiker %d","corporation_code":"BENCH1"}',
      prefix, counter, counter))
  end
end
