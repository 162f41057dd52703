-- ardour7-lua make_session.lua DIR TAKE.wav POSITION_SAMPLES
-- A test session (DIR must not exist): tracks "Dialogue", "Take" (TAKE.wav copied in as a region at
-- POSITION) and "Music", at 48 kHz, with the OSC surface active in the session (the GUI driver quits
-- Ardour through it).
local here = debug.getinfo (1, "S").source:match ("^@(.*/)") or "./"
local HI = dofile (here .. "headless_import.lua")
local dir, wav, pos = arg[1], arg[2], tonumber (arg[3])
assert (dir and wav and pos, "usage: make_session.lua DIR TAKE.wav POSITION_SAMPLES")
local name = dir:gsub ("/+$", ""):match ("([^/]+)$")
assert (create_session (dir, name, 48000), "create_session failed")
for _, n in ipairs ({ "Dialogue", "Take", "Music" }) do
	Session:new_audio_track (1, 2, nil, 1, n, -1, ARDOUR.TrackMode.Normal, true, false)
end
assert (Session:save_state ("", false, false, false, false, false) == 0)
HI.import_files (Session, { { track = "Take", file = wav, pos = pos, copy = true } })
assert (Session:save_state ("", false, false, false, false, false) == 0)
close_session ()
local file = dir .. "/" .. name .. ".ardour"
local f = assert (io.open (file, "r")); local xml = f:read ("a"); f:close ()
local n
xml, n = xml:gsub ('(<Protocol name="Open Sound Control %(OSC%)" active=")0(")', "%11%2")
assert (n == 1, "no OSC protocol node in " .. file)
f = assert (io.open (file, "w")); f:write (xml); f:close ()
print ("SESSION_OK " .. file)
