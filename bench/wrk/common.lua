-- What bench/wrk/*.lua share: thread numbering (each script's init reads `id`), the count of
-- answers that are not 2xx (wrk's own summary folds them into "Non-2xx or 3xx"), and the one
-- machine-readable line bench/run.sh parses:
--   WRK requests=N duration_s=S rate=R non2xx=K first_non2xx=C errors=E latency_p50_ms=..
--       latency_p99_ms=.. bytes=B
-- A script loads it first with dofile (see get_tiles.lua) and defines init and request itself.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

non2xx, first_bad = 0, ""

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_bad == "" then first_bad = tostring(status) end
  end
end

function done(summary, latency, requests)
  local bad, first = 0, ""
  for _, t in ipairs(threads) do
    bad = bad + t:get("non2xx")
    if first == "" then first = t:get("first_bad") end
  end
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.timeout
  local secs = summary.duration / 1e6
  io.write(string.format(
    "WRK requests=%d duration_s=%.3f rate=%.1f non2xx=%d first_non2xx=%s errors=%d " ..
    "latency_p50_ms=%.3f latency_p99_ms=%.3f bytes=%d\n",
    summary.requests, secs, summary.requests / secs, bad, first == "" and "-" or first, errors,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.bytes))
end
