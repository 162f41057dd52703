ardour {
	["type"]    = "EditorAction",
	name        = "sfx: generate from the selected region",
	license     = "GPL-3.0-or-later",
	author      = "sfx",
	description = [[Turns the selected region (a vocal imitation) into sound effects with a running `sfx serve`.
Only the part of the file the region plays is sent, with its position on the timeline. Ardour stays
responsive: the companion hook "sfx: bring results in" (ardour_sfx_results.lua) puts the variations on a new
track right under the region's track, at the region's position, stacked as layers of one spot.]]
}

-- Install: Edit > Lua Scripts > Script Manager: "Action Scripts" > Add/Set, pick this file (and bind it a
-- key in Window > Keyboard Shortcuts); "Action Hooks" > Add, pick ardour_sfx_results.lua.
-- Start the server with your sessions' folder as a root:  sfx serve --project-root ~/Ardour
-- SFX_COMMAND (the full path of sfx) and SFX_PORT in Ardour's environment override the defaults.
-- Test hooks pass params: label, variations, report (a file for messages instead of a dialog box).

function factory (params) return function ()
	local p = params or {}
	local SFX = os.getenv ("SFX_COMMAND") or "sfx"
	local PORT = os.getenv ("SFX_PORT") or "9001"
	local windows = (os.getenv ("OS") or ""):find ("Windows") ~= nil

	local function tell (text)
		if p.report then
			local f = io.open (p.report, "a"); if f then f:write ("MESSAGE " .. text .. "\n"); f:close () end
		else
			LuaDialog.Message ("sfx", text, LuaDialog.MessageType.Info, LuaDialog.ButtonType.Close):run ()
		end
	end
	local function quote (text)
		if windows then return '"' .. text:gsub ('"', '\\"') .. '"' end
		return "'" .. text:gsub ("'", "'\\''") .. "'"
	end
	local function json_string (text)
		local named = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
		return '"' .. text:gsub ('[%c"\\]', function (c) return named[c] or string.format ("\\u%04x", c:byte ()) end) .. '"'
	end

	-- the region and the track holding it
	local regions = Editor:get_selection ().regions:regionlist ()
	if regions:empty () then
		return tell ("Select the region with your vocal imitation first, then run sfx again.")
	end
	local region = regions:front ()
	if region:to_audioregion ():isnil () then return tell ("The selected region is not audio.") end
	local source = region:source (0):to_filesource ()
	local file = source:isnil () and "" or source:path ()
	local probe = file ~= "" and io.open (file, "r")
	if not probe then return tell ("The region's file is missing (" .. file .. ").") end
	probe:close ()
	local track
	for route in Session:get_tracks ():iter () do
		local t = route:to_track ()
		if not t:isnil () and t:playlist ():region_by_id (region:to_stateful ():id ()):isnil () == false then
			track = t
			break
		end
	end
	if not track then return tell ("Cannot find the track of the selected region.") end

	-- what to make
	local label, variations = p.label, tonumber (p.variations or "")
	if not label then
		local answer = LuaDialog.Dialog ("sfx", {
			{ type = "entry", key = "label", default = "door creak", title = "What should it become?" },
			{ type = "number", key = "variations", min = 1, max = 16, step = 1, digits = 0, default = 4, title = "Variations" },
		}):run ()
		if not answer then return end
		label, variations = answer.label, answer.variations
	end
	if not label or not label:match ("%S") then return tell ("Type what the sound should become, for example: door creak") end

	local rate = Session:nominal_sample_rate ()
	local offset = region:start ():samples () / rate     -- where the region starts inside its file
	local length = region:length ():samples () / rate
	local position = region:position ():samples ()       -- on the timeline, samples
	local folder = Session:path ():gsub ("[/\\]+$", "")
	local jobs = folder .. (windows and "\\" or "/") .. "sfx-jobs"
	os.execute ((windows and "mkdir " or "mkdir -p ") .. quote (jobs))
	local id = string.format ("ardour-%d-%d", os.time (), math.random (100000, 999999))
	local base = jobs .. (windows and "\\" or "/") .. id
	local f = io.open (base .. ".request.json", "w")
	if not f then return tell ("Cannot write into " .. jobs .. ".") end
	f:write ('{"id": ' .. json_string (id) .. ', "imitation": ' .. json_string (file) .. ', "label": ' .. json_string (label)
		.. ', "options": {"variations": ' .. math.floor (variations or 4) .. ', "offset": ' .. string.format ("%.6f", offset)
		.. ', "length": ' .. string.format ("%.6f", length) .. ', "position": ' .. string.format ("%.6f", position / rate)
		.. ', "project": ' .. json_string (folder) .. ', "format": "wav"}}')
	f:close ()
	-- the job the hook waits for: id, track, position (samples), label
	local pending = io.open (jobs .. (windows and "\\" or "/") .. "pending.txt", "a")
	pending:write (id .. "\t" .. track:name () .. "\t" .. position .. "\t" .. label .. "\n")
	pending:close ()
	local command = quote (SFX) .. " send --request " .. quote (base .. ".request.json") .. " --out "
		.. quote (base .. ".answer.json") .. " --port " .. PORT .. " -q"
	if windows then
		os.execute ('start "" /B ' .. command)
	else
		os.execute (command .. " >/dev/null 2>&1 &")      -- returns at once: Ardour stays responsive
	end
end end

function icon (params) return function (ctx, width, height, fg)
	local r = math.min (width, height) * .3
	ctx:set_source_rgba (ARDOUR.LuaAPI.color_to_rgba (fg))
	ctx:arc (width * .5, height * .5, r, 0, 2 * math.pi)
	ctx:fill ()
end end
