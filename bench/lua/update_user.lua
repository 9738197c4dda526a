-- PATCH /users/{id}: a new job title for a random seeded user.
dofile("bench/lua/common.lua")
request = function()
  counter = counter + 1
  return wrk.format("PATCH", "/users/" .. random_id(), nil,
    string.format('{"job_title":"Functie %s-%d"}', prefix, counter))
end
