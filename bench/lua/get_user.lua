-- GET /users/{id} for random ids of the seeded users.
dofile("bench/lua/common.lua")
request = function()
  return wrk.format("GET", "/users/" .. random_id())
end
