-- wrk script: GET /users/{id} for random ids of the seeded users, as a signed-in kwh_admin.
local ids = {}
for line in io.lines(os.getenv("IDS_FILE")) do ids[#ids + 1] = line end
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
request = function()
  return wrk.format("GET", "/users/" .. ids[math.random(#ids)])
end
