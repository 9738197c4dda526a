-- POST /users with a new address each time.
dofile("bench/lua/common.lua")
request = function()
  counter = counter + 1
  local body = string.format(
    '{"email":"n%s-%d@bench.example.nl","first_name":"Nieuwe","last_name":"Gebruiker %d","corporation_code":"BENCH1"}',
    prefix, counter, counter)
  return wrk.format("POST", "/users", nil, body)
end
