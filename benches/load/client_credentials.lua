-- wrk script: POST /token grant_type=client_credentials with client_secret_basic.
-- LOAD_BASIC is base64("client_id:client_secret"); LOAD_PATH the token endpoint's path.
wrk.method = "POST"
wrk.path = os.getenv("LOAD_PATH") or "/token"
wrk.body = "grant_type=client_credentials&scope=profile"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("LOAD_BASIC")
