-- wrk script: POST /token grant_type=authorization_code, each request redeeming one of the codes
-- mint_codes.py wrote to LOAD_CODES (client_secret_basic, PKCE). The codes are dealt out to
-- the LOAD_THREADS_N threads in turn, so no code is sent twice. A thread that has used its share
-- stops; wrk then still divides by the whole duration, so run.sh flags a run that used them all
-- (its rate is then a lower bound).
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  local n = tonumber(os.getenv("LOAD_THREADS_N") or "1")
  codes = {}
  local i = 0
  for line in io.lines(os.getenv("LOAD_CODES")) do
    if i % n == id then
      table.insert(codes, line)
    end
    i = i + 1
  end
  next_code = 1
  auth = "Basic " .. os.getenv("LOAD_BASIC")
end

function request()
  local code = codes[next_code]
  if code == nil then
    wrk.thread:stop()
    return wrk.format("GET", "/.well-known/openid-configuration")
  end
  next_code = next_code + 1
  return wrk.format("POST", "/token", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = auth,
  }, "grant_type=authorization_code&code=" .. code
    .. "&redirect_uri=http%3A%2F%2F127.0.0.1%3A3000%2Fcallback"
    .. "&code_verifier=load-test-verifier-0123456789abcdefghijklmnopqrstuvwxyz")
end
