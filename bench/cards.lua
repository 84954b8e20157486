-- wrk script for bench/run.py: GET the URL as many card holders' phones, each request another household's.
-- Usage: wrk -tT ... -s bench/cards.lua URL -- COOKIE_FILE T [HEADER: VALUE]
-- COOKIE_FILE has one Cookie header per line (that phone's session cookie and its household card cookie).
-- Threads take alternate lines and start over after the last one. An optional extra header (e.g.
-- "HX-Request: true" for the htmx fragment a page polls) goes on every request.
-- At the end it prints "not 200: N of M" and "LATENCY_US p50=.. p95=.. p99=..".

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  cookies = {}
  for line in io.lines(args[1]) do
    if #line > 0 then
      table.insert(cookies, line)
    end
  end
  step = tonumber(args[2]) or 2
  extra_name, extra_value = nil, nil
  if args[3] then
    extra_name, extra_value = args[3]:match("^([^:]+):%s*(.*)$")
  end
  n = tid or 0
  bad = 0
  seen = 0
end

function request()
  local headers = {["Cookie"] = cookies[(n % #cookies) + 1]}
  if extra_name then
    headers[extra_name] = extra_value
  end
  n = n + step
  return wrk.format("GET", nil, headers)
end

function response(status, headers, body)
  seen = seen + 1
  if status ~= 200 then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local total_bad, total_seen = 0, 0
  for _, thread in ipairs(threads) do
    total_bad = total_bad + thread:get("bad")
    total_seen = total_seen + thread:get("seen")
  end
  io.write(string.format("not 200: %d of %d\n", total_bad, total_seen))
  io.write(string.format("LATENCY_US p50=%d p95=%d p99=%d\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
