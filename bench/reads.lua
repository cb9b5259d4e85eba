-- wrk script for bench/load.sh: GET one case after another, with the bearer token.
-- Arguments: TOKEN CASES.

local digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

local function digit(n)
    return digits:sub(n + 1, n + 1)
end

-- EE-D-000, EE-D-001, ... in base 36, as load.sh seeds them.
function case_id(i)
    return "EE-D-" .. digit(math.floor(i / 1296) % 36) .. digit(math.floor(i / 36) % 36) .. digit(i % 36)
end

local counter = 0

function init(args)
    token = args[1]
    cases = tonumber(args[2])
    counter = math.random(0, cases - 1)
end

function request()
    counter = counter + 1
    local path = "/api/v1/cases/" .. case_id(counter % cases)
    return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end
