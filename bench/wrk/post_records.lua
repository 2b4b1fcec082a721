-- wrk script for bench/run.sh's http-post section: every request POSTs a new record of SIZE bytes
-- to a new path, /records/<PREFIX>/<thread>-<counter>, with content no other record has (the
-- store keeps identical content once, so repeated bodies would skip the content fsync). Each
-- 201 means the record is durable.
--
--   wrk -t2 -c8 -d10s -s bench/wrk/post_records.lua http://127.0.0.1:PORT -- TENANT PREFIX SIZE
--
-- Prints the line described in common.lua at the end.

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local headers, prefix, filler = nil, "", ""
local n = 0

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
