-- Creates an Ardour session (Dummy backend, no sound card) with one MIDI track per name in
-- TRACKS, each with PLUGIN (of PLUGIN_TYPE) as its instrument and its outputs on the master bus;
-- saves it. Environment: SESSION_DIR SESSION_NAME RATE PLUGIN PLUGIN_TYPE TRACKS (comma separated).
local dir = os.getenv("SESSION_DIR")
local name = os.getenv("SESSION_NAME")
local rate = tonumber(os.getenv("RATE") or "48000")
local pname = os.getenv("PLUGIN") or "Rosin"
local ptype = ARDOUR.PluginType[os.getenv("PLUGIN_TYPE") or "VST3"]

local be = AudioEngine:set_backend("None (Dummy)", "", "")
assert(be and not be:isnil(), "set_backend failed")
local s = create_session(dir, name, rate)
assert(s, "create_session failed")
sleep(1) -- adding a track right after create_session races ("Port already exists") in 7.3

local pi = ARDOUR.LuaAPI.new_plugin_info(pname, ptype)
assert(pi and not pi:isnil(), "plugin " .. pname .. " not found (not scanned?)")
for tname in string.gmatch(os.getenv("TRACKS") or "Violins", "([^,]+)") do
  local tl = s:new_midi_track(ARDOUR.ChanCount(ARDOUR.DataType("midi"), 1),
    ARDOUR.ChanCount(ARDOUR.DataType("audio"), 2), true, pi, nil, nil, 1, tname,
    ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true)
  assert(tl:size() == 1, "new_midi_track failed for " .. tname)
  assert(not tl:front():the_instrument():isnil(), "track " .. tname .. " has no instrument")
end

-- Ardour connects track outputs to the master bus from another thread: give it time, then make
-- sure (a session saved unconnected bounces silence).
sleep(2)
for tr in s:get_tracks():iter() do
  local out = tr:output()
  for i = 0, out:n_ports():n_audio() - 1 do
    local dest = "Master/audio_in " .. (i + 1)
    if not out:audio(i):connected_to(dest) then out:connect(out:audio(i), dest, nil) end
    assert(out:audio(i):connected_to(dest), tr:name() .. " not connected to " .. dest)
  end
end
s:save_state("", false, false, false, false, false)
print("created", s:path(), "rate", s:nominal_sample_rate())
close_session()
