-- Body of the test's EditorHook (the factory body: `...` is its params table). Inside the real Ardour GUI:
-- select the Take region, run the sfx action as the GUI runs action scripts, wait until the results hook
-- has brought the variations in, import one result "at its timestamp" to check its BWF TimeReference, save,
-- and quit through Ardour's own OSC surface (quitting from inside a hook would destroy the hook).
local P = ... or {}
local state, busy, started, waited_from = "wait", false, nil, nil
local function now () return ARDOUR.LuaAPI.monotonic_time () / 1e6 end
local function note (text)
	local f = io.open (P.result, "a"); if f then f:write (text .. "\n"); f:close () end
end

local function run_action ()
	local fh = assert (io.open (P.action, "r"))
	local src = fh:read ("a"); fh:close ()
	local env = setmetatable ({ ardour = function () end }, { __index = _ENV })
	assert (load (src, "=" .. P.action, "t", env)) ()
	-- as the GUI does: only the factory survives, without the file's other globals
	local factory = load (string.dump (env.factory, true), nil, "b", _ENV)
	factory ({ label = P.label, variations = P.variations, report = P.report }) ()
end

local function select_take ()
	local take = Session:route_by_name ("Take"):to_track ()
	local list = ArdourUI.SelectionList ()
	for region in take:playlist ():region_list ():iter () do
		list:push_back (Editor:regionview_from_region (region))
	end
	Editor:set_selection (list, ArdourUI.SelectionOp.Set)
end

local function results ()
	local track = Session:route_by_name ("sfx: " .. P.label)
	if track:isnil () then return 0 end
	return track:to_track ():playlist ():region_list ():size ()
end

local function import_at_timestamp ()
	-- a result as sfx wrote it (in the session's sfx folder), imported "at its timestamp", lands where its
	-- BWF TimeReference says
	local track = Session:route_by_name ("sfx: " .. P.label):to_track ()
	local listing = io.popen ("ls -1 '" .. Session:path ():gsub ("/+$", "") .. "/sfx/'*.wav")
	local file = listing:read ("l")
	listing:close ()
	local order = track:presentation_info_ptr ():order () + 1
	local check = Session:new_audio_track (1, 2, nil, 1, "timestamp check", order, ARDOUR.TrackMode.Normal, true, false):front ():to_track ()
	local files = C.StringVector ()
	files:push_back (file)
	Editor:do_import (files, Editing.ImportSerializeFiles, Editing.ImportToTrack, ARDOUR.SrcQuality.SrcBest,
		ARDOUR.MidiTrackNameSource.SMFTrackName, ARDOUR.MidiTempoMapDisposition.SMFTempoIgnore,
		Temporal.timepos_t.max (Temporal.TimeDomain.AudioTime), ARDOUR.PluginInfo (), check, false)
end

local function quit ()
	local fh = io.open (P.osc_url, "r")
	local url = fh and fh:read ("a") or ""; if fh then fh:close () end
	local port = url:match (":(%d+)/?%s*$")
	if not port then note ("QUIT_ERROR no OSC url"); return end
	ARDOUR.LuaOSC.Address ("osc.udp://127.0.0.1:" .. port .. "/"):send ("/access_action", "s", "Common/Quit")
end

return function (signal, ref, ...)
	if busy then return true end
	started = started or now ()
	if state == "wait" then
		if now () - started < 0.5 then return true end
		busy = true
		local ok, err = pcall (function () select_take (); run_action () end)
		busy = false
		note (ok and "ACTION_OK" or ("ACTION_ERROR " .. tostring (err)))
		state, waited_from = "results", now ()
	elseif state == "results" then
		if results () >= tonumber (P.variations) then
			note (string.format ("RESULTS %d after %.2f s", results (), now () - waited_from))
			busy = true
			local ok, err = pcall (import_at_timestamp)
			busy = false
			note (ok and "TIMESTAMP_IMPORTED" or ("TIMESTAMP_ERROR " .. tostring (err)))
			state = "save"
		elseif now () - waited_from > tonumber (P.wait or "60") then
			note ("RESULTS_TIMEOUT"); state = "save"
		end
	elseif state == "save" then
		local ok, err = pcall (function () Editor:access_action ("Common", "Save") end)
		note (ok and "SAVED" or ("SAVE_ERROR " .. tostring (err)))
		state = "quit"
		quit ()
	end
	return true
end
