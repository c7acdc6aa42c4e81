-- wrk script for bench/api: one file for every case, chosen by BENCH_CASE.
--
-- Environment (set by bench/api):
--   BENCH_CASE        list | detail | search | patch | create
--   BENCH_TOKEN       API token (admin, root scope)
--   BENCH_MIN_ID      smallest seeded user id
--   BENCH_MAX_ID      largest seeded user id
--   BENCH_MAX_OFFSET  largest offset for the list case
--   BENCH_PARENT_ID   parent unit for created org units
--   BENCH_TAG         makes created names unique across runs
--
-- done() prints one machine-readable line starting with "BENCH " (and
-- "BENCH_SAMPLE " with the first non-2xx response, if any), which bench/api
-- parses. Latencies are microseconds, as wrk keeps them.

local case       = os.getenv("BENCH_CASE") or "list"
local token      = os.getenv("BENCH_TOKEN") or ""
local min_id     = tonumber(os.getenv("BENCH_MIN_ID") or "1")
local max_id     = tonumber(os.getenv("BENCH_MAX_ID") or "1")
local max_offset = tonumber(os.getenv("BENCH_MAX_OFFSET") or "0")
local parent_id  = os.getenv("BENCH_PARENT_ID") or "1"
local tag        = os.getenv("BENCH_TAG") or tostring(os.time())

-- Main state: remember the threads so done() can add up their counters.
local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("tid", #threads)
end

-- Thread states from here on. `tid` was set by setup().
function init(args)
   math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
   counter = 0
   non2xx = 0
   first_error = nil
   wrk.headers["Authorization"] = "Bearer " .. token
   wrk.headers["Accept"] = "application/json"
   if case == "patch" or case == "create" then
      wrk.headers["Content-Type"] = "application/json"
   end
end

local function random_id()
   return math.random(min_id, max_id)
end

function request()
   counter = counter + 1
   if case == "list" then
      return wrk.format("GET", "/api/v1/users?limit=50&offset=" .. math.random(0, max_offset))
   elseif case == "detail" then
      return wrk.format("GET", "/api/v1/users/" .. random_id())
   elseif case == "search" then
      -- A 5-digit substring of the seeded user names: a handful of matches,
      -- found by scanning every row (LIKE '%…%').
      return wrk.format("GET", string.format("/admin/users?q=%05d", math.random(0, 99999)))
   elseif case == "patch" then
      local body = string.format('{"display_name":"bench %s t%d n%d"}', tag, tid, counter)
      return wrk.format("PATCH", "/api/v1/users/" .. random_id(), nil, body)
   elseif case == "create" then
      local body = string.format('{"parent_id":%s,"name":"bench-%s-t%d-%d","kind":"department"}',
                                 parent_id, tag, tid, counter)
      return wrk.format("POST", "/api/v1/org-units", nil, body)
   else
      error("unknown BENCH_CASE " .. case)
   end
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      if first_error == nil then
         first_error = status .. " " .. string.sub((body or ""):gsub("%s+", " "), 1, 200)
      end
   end
end

function done(summary, latency, requests)
   local bad, sample = 0, nil
   for _, t in ipairs(threads) do
      bad = bad + (t:get("non2xx") or 0)
      sample = sample or t:get("first_error")
   end
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d non2xx=%d " ..
      "connect=%d read=%d write=%d timeout=%d\n",
      summary.requests, summary.duration,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      bad, e.connect, e.read, e.write, e.timeout))
   if sample then
      io.write("BENCH_SAMPLE " .. sample .. "\n")
   end
end
