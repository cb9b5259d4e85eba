-- wrk script for bench/load.sh: each request delivers one unit to a case, naming the version
-- the case will be at. Thread t of T writes to cases t, t+T, t+2T, ... in turn, so a case
-- receives its next write only after all the thread's other cases got one.
-- Arguments: TOKEN CASES THREADS.

local digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

local function digit(n)
    return digits:sub(n + 1, n + 1)
end

function case_id(i)
    return "EE-D-" .. digit(math.floor(i / 1296) % 36) .. digit(math.floor(i / 36) % 36) .. digit(i % 36)
end

local next_thread = 0

function setup(thread)
    thread:set("index", next_thread)
    next_thread = next_thread + 1
end

local counter = 0
-- wrk calls thread 0's request() once before the run, to check the script, and never
-- sends that request: it must not use up a version.
local skip_verification = false

function init(args)
    skip_verification = index == 0
    token = args[1]
    cases = tonumber(args[2])
    threads = tonumber(args[3])
    per_thread = math.floor(cases / threads)
    headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
end

function request()
    if skip_verification then
        skip_verification = false
        return wrk.format("GET", "/healthz")
    end
    local slot = counter % per_thread
    local round = math.floor(counter / per_thread)
    counter = counter + 1
    -- Seeded cases are at version 2 (opened, then on contract).
    local body = string.format(
        '{"version":%d,"date":"2025-06-01","kind":"deliver","line":0,"quantity":1}', 2 + round)
    local path = "/api/v1/cases/" .. case_id(index + threads * slot) .. "/events"
    return wrk.format("POST", path, headers, body)
end

-- Show the first few refusals, so that any error is seen, not only counted.
local shown = 0

function response(status, headers, body)
    if status ~= 201 and shown < 5 then
        shown = shown + 1
        io.stderr:write(string.format("thread %d: HTTP %d %s\n", index, status, body))
    end
end
