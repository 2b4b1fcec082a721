-- wrk script for bench/run.sh's http-get section: GETs of the paths listed in a file, one per
-- line ("/tile/0/000", "/tile/entries/000", ...), cycled; every thread starts at its own offset.
-- Sends X-Module-ID (ledgerfs serve checks it; a static server ignores it) and counts the
-- responses that are not 2xx, which wrk's own summary folds into "Non-2xx or 3xx".
--
--   wrk -t2 -c16 -d10s -s bench/wrk/get_tiles.lua http://127.0.0.1:PORT -- PATHS_FILE TENANT
--
-- Prints one machine-readable line at the end:
--   WRK requests=N duration_s=S rate=R non2xx=K errors=E latency_p50_ms=.. latency_p99_ms=..

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local requests, count, pos = {}, 0, 1
non2xx, first_bad = 0, ""

function init(args)
  local file, tenant = args[1], args[2]
  if not file or not tenant then error("usage: -- PATHS_FILE TENANT") end
  local headers = { ["X-Module-ID"] = tenant }
  for line in io.lines(file) do
    if line ~= "" then
      count = count + 1
      requests[count] = wrk.format("GET", line, headers)
    end
  end
  if count == 0 then error(file .. " lists no paths") end
  pos = (id * 7919) % count + 1
end

function request()
  local r = requests[pos]
  pos = pos % count + 1
  return r
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_bad == "" then first_bad = tostring(status) end
  end
end

function done(summary, latency, requests_)
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
