-- wrk script for bench/votes.py: every request POSTs a different household's ballot.
-- Usage: wrk -tT ... -s bench/votes.lua http://HOST:PORT/<slug>/topics/<id>/vote -- DATA_FILE T
-- DATA_FILE has one line per household: "<Cookie header>\t<form body>" (session cookie + card cookie,
-- the session's CSRF token and a choice). Threads take alternate lines; after the last line they start
-- over, which changes those households' votes (the topic allows changes).
-- At the end it prints "not 303: N of M": answers that were anything but a vote's 303 redirect.

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  lines = {}
  for line in io.lines(args[1]) do
    local cookie, body = line:match("^([^\t]*)\t(.*)$")
    if cookie then
      table.insert(lines, {cookie, body})
    end
  end
  step = tonumber(args[2]) or 2
  n = tid or 0
  bad = 0
  seen = 0
end

function request()
  local item = lines[(n % #lines) + 1]
  n = n + step
  return wrk.format("POST", nil, {
    ["Cookie"] = item[1],
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, item[2])
end

function response(status, headers, body)
  seen = seen + 1
  if status ~= 303 then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local total_bad, total_seen = 0, 0
  for _, thread in ipairs(threads) do
    total_bad = total_bad + thread:get("bad")
    total_seen = total_seen + thread:get("seen")
  end
  io.write(string.format("not 303: %d of %d\n", total_bad, total_seen))
end
