-- Requests for the whole-request benchmark (bench/http_bench.py), one workload per run:
--
--   wrk ... -s bench/wrk/requests.lua http://127.0.0.1:PORT -- SPEC
--
-- SPEC is a file the benchmark writes: "method GET", "header Name: value" lines (the session
-- cookie, the CSRF token, the content type) and "request PATH<TAB>BODY" lines, sent in turn
-- by each connection (a thread starts at its own offset). done() prints one line
-- "BENCH_JSON {...}" with the counts, every status seen (so a non-2xx answer is never
-- hidden), socket errors, and the latency percentiles in microseconds.

local threads = {}

function setup(thread)
   thread:set("number", #threads)
   table.insert(threads, thread)
end

local prepared = {}
local position = 0
statuses = {}

local function load(path)
   local method, headers, lines = "GET", {}, {}
   for line in io.lines(path) do
      local kind, rest = line:match("^(%S+) (.*)$")
      if kind == "method" then
         method = rest
      elseif kind == "header" then
         local name, value = rest:match("^([^:]+): (.*)$")
         headers[name] = value
      elseif kind == "request" then
         local target, body = rest:match("^([^\t]*)\t?(.*)$")
         if body == "" then
            body = nil
         end
         table.insert(lines, { target, body })
      end
   end
   for _, line in ipairs(lines) do
      table.insert(prepared, wrk.format(method, line[1], headers, line[2]))
   end
end

function init(args)
   load(args[1])
   if #prepared == 0 then
      error("no request in " .. args[1])
   end
   position = (number or 0) * 7919 % #prepared
end

function request()
   position = position % #prepared + 1
   return prepared[position]
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   local counts = {}
   for _, thread in ipairs(threads) do
      local seen = thread:get("statuses")
      for status, count in pairs(seen) do
         counts[status] = (counts[status] or 0) + count
      end
   end
   local parts = {}
   for status, count in pairs(counts) do
      table.insert(parts, string.format('"%d": %d', status, count))
   end
   local errors = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "statuses": {%s}, '
         .. '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, '
         .. '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
      summary.requests, summary.duration, summary.bytes, table.concat(parts, ", "),
      errors.connect, errors.read, errors.write, errors.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, latency.mean
   ))
end
