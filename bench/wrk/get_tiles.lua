-- wrk script for bench/run.sh's http-get section: GETs of the paths listed in a file, one per
-- line ("/tile/0/000", "/tile/entries/000", ...), cycled; every thread starts at its own offset.
-- Sends X-Module-ID (ledgerfs serve checks it; a static server ignores it).
--
--   wrk -t2 -c16 -d10s -s bench/wrk/get_tiles.lua http://127.0.0.1:PORT -- PATHS_FILE TENANT
--
-- Prints the line described in common.lua at the end.

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local requests, count, pos = {}, 0, 1

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
