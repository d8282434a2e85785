-- wrk script for bench/control/run.sh: keep-alive requests against the control API.
--
--   wrk -t1 -c1 -d5s --latency -s invoke.lua URL -- BODY_FILE [CONTENT_TYPE]
--
-- With BODY_FILE every request is a POST of that file's bytes (Content-Type CONTENT_TYPE,
-- default application/json); without it a plain GET. $SIE_TOKEN, when set, is sent as the
-- bearer token. The request is built once per thread.
-- done() prints one machine-readable line for run.sh after wrk's own report:
--   RESULT requests=N seconds=S rps=R p50_us=A p99_us=B non2xx=C socket_errors=D

local req

function init(args)
  local method, body = "GET", nil
  local headers = {}
  local token = os.getenv("SIE_TOKEN")
  if token ~= nil and token ~= "" then
    headers["Authorization"] = "Bearer " .. token
  end
  if args[1] ~= nil and args[1] ~= "" then
    local f = assert(io.open(args[1], "rb"))
    body = f:read("*a")
    f:close()
    method = "POST"
    headers["Content-Type"] = args[2] or "application/json"
  end
  req = wrk.format(method, nil, headers, body)
end

function request()
  return req
end

function done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f rps=%.1f p50_us=%d p99_us=%d non2xx=%d socket_errors=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50.0), latency:percentile(99.0),
    e.status, e.connect + e.read + e.write + e.timeout))
end
