-- POST /auth/login with the right password (argon2id verification on every call).
dofile("bench/lua/common.lua")
wrk.headers["Authorization"] = nil
local body = string.format('{"email":"%s","password":"%s"}', os.getenv("ADMIN_EMAIL"), os.getenv("ADMIN_PASSWORD"))
request = function()
  return wrk.format("POST", "/auth/login", nil, body)
end
