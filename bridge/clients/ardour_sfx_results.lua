ardour {
	["type"]    = "EditorHook",
	name        = "sfx: bring results in",
	license     = "GPL-3.0-or-later",
	author      = "sfx",
	description = [[Companion of the action "sfx: generate from the selected region": ten times a second it looks
whether a request has been answered, and puts its variations on a new track right under the take's track, at
the take's position, stacked as layers of one region (the best on top; Layers > Stacked shows them all).]]
}

function signals ()
	return LuaSignal.Set ():add ({ [LuaSignal.LuaTimerDS] = true })
end

function factory (params)
	local p = params or {}
	local busy = false   -- importing runs Ardour's event loop, which calls this hook again meanwhile

	local function tell (text)
		if p.report then
			local f = io.open (p.report, "a"); if f then f:write ("MESSAGE " .. text .. "\n"); f:close () end
		else
			LuaDialog.Message ("sfx", text, LuaDialog.MessageType.Info, LuaDialog.ButtonType.Close):run ()
		end
	end

	-- the answer `sfx send --out` writes: {"id": ..., "files": [...]} or {"id": ..., "error": "..."}
	local function read_answer (path)
		local f = io.open (path, "r")
		if not f then return nil end
		local text = f:read ("a"); f:close ()
		local function unescape (s)
			return (s:gsub ('\\u(%x%x%x%x)', function (h) return utf8.char (tonumber (h, 16)) end)
			         :gsub ('\\(["\\/bfnrt])', { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }))
		end
		local err = text:match ('"error"%s*:%s*"(.-)"%s*[,}]')
		if err then return { error = unescape (err) } end
		local list = text:match ('"files"%s*:%s*%[(.-)%]')
		if not list then return nil end
		local files = {}
		for item in list:gmatch ('"(.-[^\\])"') do files[#files + 1] = unescape (item) end
		return { files = files }
	end

	local function wav_channels (path)
		local f = io.open (path, "rb")
		if not f then return 1 end
		local head = f:read (64) or ""; f:close ()
		local at = head:find ("fmt ", 1, true)
		if not at then return 1 end
		local lo, hi = head:byte (at + 10, at + 11)
		return (lo or 1) + 256 * (hi or 0)
	end

	local function place (track_name, position, label, files)
		local take_track = Session:route_by_name (track_name)
		local order = take_track:isnil () and -1 or take_track:presentation_info_ptr ():order () + 1
		local channels = math.max (1, math.min (2, wav_channels (files[1])))
		local track = Session:new_audio_track (channels, 2, nil, 1, "sfx: " .. label, order,
			ARDOUR.TrackMode.Normal, true, false):front ():to_track ()
		for i = #files, 1, -1 do   -- the best last, so it lies on top and is the one heard
			local one = C.StringVector ()
			one:push_back (files[i])
			Editor:do_import (one, Editing.ImportSerializeFiles, Editing.ImportToTrack, ARDOUR.SrcQuality.SrcBest,
				ARDOUR.MidiTrackNameSource.SMFTrackName, ARDOUR.MidiTempoMapDisposition.SMFTempoIgnore,
				Temporal.timepos_t (position), ARDOUR.PluginInfo (), track, false)
		end
	end

	return function (signal, ref, ...)
		if busy then return end
		local jobs = Session:path ():gsub ("[/\\]+$", "") .. "/sfx-jobs"
		local f = io.open (jobs .. "/pending.txt", "r")
		if not f then return end
		local waiting, done = {}, {}
		for line in f:lines () do
			local id, track_name, position, label = line:match ("^(.-)\t(.-)\t(%d+)\t(.*)$")
			if id then
				local answer = read_answer (jobs .. "/" .. id .. ".answer.json")
				if answer then done[#done + 1] = { id, track_name, tonumber (position), label, answer }
				else waiting[#waiting + 1] = line end
			end
		end
		f:close ()
		if #done == 0 then return end
		f = io.open (jobs .. "/pending.txt", "w")
		f:write (#waiting > 0 and (table.concat (waiting, "\n") .. "\n") or "")
		f:close ()
		busy = true
		for _, job in ipairs (done) do
			local id, track_name, position, label, answer = table.unpack (job)
			if answer.error then
				tell ("sfx: " .. answer.error .. (answer.error:find ("nothing is listening") and
					"\n\nStart it first:  sfx serve --project-root <your sessions folder>" or ""))
			elseif #answer.files > 0 then
				local ok, err = pcall (place, track_name, position, label, answer.files)
				if not ok then tell ("sfx: cannot import the results: " .. tostring (err)) end
			end
			os.remove (jobs .. "/" .. id .. ".request.json")
			os.remove (jobs .. "/" .. id .. ".answer.json")
		end
		busy = false
	end
end
