-- Loads a session, optionally sets instrument parameters and saves, reports parameter values,
-- and bounces the master bus to a 32-bit float WAV (the export preset in tests/daw/export).
-- Environment: SESSION_DIR SESSION_NAME EXPORT_DIR EXPORT_NAME EXPORT_SAMPLES
--   SET     "Track:Label=value;..." (values in the parameter's own units), then the session is saved
--   REPORT  "Track:Label;..." printed as lines "param Track:Label=value"
local PRESET = "8f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
local be = AudioEngine:set_backend("None (Dummy)", "", "")
assert(be and not be:isnil(), "set_backend failed")
local s = load_session(os.getenv("SESSION_DIR"), os.getenv("SESSION_NAME"))
assert(s, "load_session failed")

local function instrument(tname)
  local r = s:route_by_name(tname)
  assert(r and not r:isnil(), "no track " .. tname)
  return r:the_instrument()
end
local function index_of(proc, label)
  local plug = proc:to_insert():plugin(0)
  for i = 0, plug:parameter_count() - 1 do
    if plug:parameter_is_control(i) and plug:parameter_is_input(i) and plug:parameter_label(i) == label then
      return i
    end
  end
  error("no parameter labelled " .. label)
end

local set = os.getenv("SET") or ""
for item in string.gmatch(set, "([^;]+)") do
  local tname, label, value = string.match(item, "^(.-):(.-)=(.*)$")
  local proc = instrument(tname)
  assert(ARDOUR.LuaAPI.set_processor_param(proc, index_of(proc, label), tonumber(value)), "cannot set " .. item)
end
if set ~= "" then
  sleep(1) -- a new section loads on the plugin's loader thread
  s:save_state("", false, false, false, false, false)
  print("saved")
end

for item in string.gmatch(os.getenv("REPORT") or "", "([^;]+)") do
  local tname, label = string.match(item, "^(.-):(.*)$")
  local proc = instrument(tname)
  local v = ARDOUR.LuaAPI.get_processor_param(proc, index_of(proc, label), true)
  print(string.format("param %s:%s=%.9g", tname, label, v))
end

local e = s:simple_export()
assert(e:set_preset(PRESET), "export preset not found")
e:set_name(os.getenv("EXPORT_NAME"))
e:set_folder(os.getenv("EXPORT_DIR"))
e:set_range(0, tonumber(os.getenv("EXPORT_SAMPLES")))
assert(e:check_outputs(), "export: no master outputs")
print("exported", e:run_export())
close_session()
