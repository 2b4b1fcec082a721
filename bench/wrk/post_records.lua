-- wrk script for bench/run.sh's http-post section: every request POSTs a new record of SIZE bytes
-- to a new path, /records/<PREFIX>/<thread>-<counter>, with content no other record has (the
-- store keeps identical content once, so repeated bodies would skip the content fsync). Each
-- 201 means the record is durable. Counts the responses that are not 2xx.
--
--   wrk -t2 -c8 -d10s -s bench/wrk/post_records.lua http://127.0.0.1:PORT -- TENANT PREFIX SIZE
--
-- Prints one machine-readable line at the end (the same fields as get_tiles.lua).

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local headers, prefix, filler = nil, "", ""
local n = 0
non2xx, first_bad = 0, ""

function init(args)
  local tenant, p, size = args[1], args[2], tonumber(args[3] or "4096")
  if not tenant or not p then error("usage: -- TENANT PREFIX [SIZE]") end
  headers = { ["X-Module-ID"] = tenant, ["Content-Type"] = "application/octet-stream" }
  prefix = "/records/" .. p .. "/" .. id .. "-"
  -- Random filler, different per thread; each body ends with a 40-byte stamp unique per record.
  math.randomseed(os.time() * 1000 + id)
  local chunk = {}
  for i = 1, size - 40 do chunk[i] = string.char(math.random(0, 255)) end
  filler = table.concat(chunk)
end

function request()
  n = n + 1
  local stamp = string.format("%-39s\n", string.sub(prefix .. n, -39))
  return wrk.format("POST", prefix .. n, headers, filler .. stamp)
end

function response(status, headers_, body)
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
