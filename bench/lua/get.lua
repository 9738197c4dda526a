-- The same GET each time (the URL given to wrk).
dofile("bench/lua/common.lua")
