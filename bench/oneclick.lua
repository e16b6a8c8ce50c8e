-- bench/oneclick.lua: wrk script for bench/http.sh. Each request is the RFC
-- 8058 one-click POST to a fresh /u/TOKEN path, read from the file given as
-- the first argument (one path a line; the second argument is the number of
-- wrk threads: thread k takes the lines k, k+n, k+2n...). A thread that runs
-- out of fresh paths starts over and counts it; done() reports that, so that
-- a rate measured on already-used tokens cannot pass unnoticed.
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  local n = tonumber(args[2])
  local i = 0
  for line in io.lines(args[1]) do
    if i % n == id then paths[#paths + 1] = line end
    i = i + 1
  end
  idx = 0
  reused = 0
  wrk.method = "POST"
  wrk.body = "List-Unsubscribe=One-Click"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
  idx = idx + 1
  if idx > #paths then
    idx = 1
    reused = reused + 1
  end
  return wrk.format(nil, paths[idx])
end

function done(summary, latency, requests)
  local r = 0
  for _, t in ipairs(threads) do r = r + t:get("reused") end
  io.write(string.format("oneclick: fresh tokens ran out %d time(s)\n", r))
end
