-- POST /auth/login with the right password (argon2id verification on every call), in turn for
-- LOGIN_ACCOUNTS accounts (bench/run.sh makes them). One account signing in from one address
-- many times at once is what the sign-in throttle is for: its attempts count as failures until
-- their passwords are checked (SECURITY.md), so a single account would measure the throttle.
dofile("bench/lua/common.lua")
wrk.headers["Authorization"] = nil
local accounts = tonumber(os.getenv("LOGIN_ACCOUNTS") or "0")
local password = os.getenv("ADMIN_PASSWORD")
request = function()
  counter = counter + 1
  local email = os.getenv("ADMIN_EMAIL")
  if accounts > 0 then
    email = string.format("bench-login-%d@kwh.example.nl", (counter * 7 + (thread_number or 0)) % accounts)
  end
  return wrk.format("POST", "/auth/login", nil, string.format('{"email":"%s","password":"%s"}', email, password))
end
