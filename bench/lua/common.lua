-- Shared by the wrk scripts of bench/run.sh: the caller's token, the seeded ids, a number per
-- wrk thread (for unique emails), and one machine-readable summary line on stderr.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.headers["Content-Type"] = "application/json"

ids = {}
local ids_file = os.getenv("IDS_FILE")
if ids_file then
  for line in io.lines(ids_file) do ids[#ids + 1] = line end
end

function random_id()
  return ids[math.random(#ids)]
end

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  math.randomseed(os.time() * 100 + (thread_number or 0))
  counter = 0
  -- Unique per run and thread, so repeated runs never reuse an address.
  prefix = string.format("%d-%d", os.time(), thread_number or 0)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.stderr:write(string.format("RESULT %.0f %.2f %.2f %.2f %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000,
    e.connect + e.read + e.write + e.timeout + e.status))
end
