-- The first page of the user list, 50 users (for bench/ab.sh, which gives wrk the base URL).
dofile("bench/lua/common.lua")
wrk.path = "/users?limit=50"
