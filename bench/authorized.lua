-- wrk script: the same request each time, as a signed-in kwh_admin.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
