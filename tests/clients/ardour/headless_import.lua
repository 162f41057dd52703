-- headless_import.lua -- import WAV files onto a track in ardour7-lua (Ardour 7.3), no GUI.
--
-- Ardour 7.3's Lua bindings have NO way to create an audio Source/Region from a file
-- outside the GUI (Editor:do_import is GUI-only; there is no SourceFactory binding).
-- This module works around that by: save -> close -> patching the .ardour XML
-- (adding <Source>, whole-file <Region>, and a playlist <Region>) -> load_session().
--
-- Usage (inside ardour7-lua, with a session open):
--   local HI = dofile("/path/to/headless_import.lua")
--   HI.import_files(Session, {
--       { track = "Voice", file = "/abs/tone.wav", pos = 48000 },            -- pos in samples
--       { track = "Voice", file = "/abs/bwf.wav",  at_timestamp = true },    -- pos from BWF bext TimeReference
--       { track = "Voice", file = "/abs/x.wav", pos = 0, copy = false },     -- reference file in place
--   })
--   -- NOTE: the session is closed and re-loaded: the global `Session` is replaced and all
--   -- previously held Route/Track/Region references are invalid afterwards.
--
-- Pure Lua 5.3 (string.unpack); works also as a library for plain `lua5.3` (wav_info only).

local M = {}

---------------------------------------------------------------------------
-- WAV / BWF header parsing
---------------------------------------------------------------------------
-- returns { channels, rate, bits, frames, format_tag, time_reference (or nil) }
function M.wav_info(path)
	local f = assert(io.open(path, "rb"))
	local hdr = f:read(12)
	assert(hdr and #hdr == 12, "short file: " .. path)
	local riff, _, wave = string.unpack("<c4 I4 c4", hdr)
	assert((riff == "RIFF" or riff == "RF64") and wave == "WAVE", "not a RIFF/WAVE file: " .. path)
	local info = {}
	local ds64_data_size
	while true do
		local ch = f:read(8)
		if not ch or #ch < 8 then break end
		local id, size = string.unpack("<c4 I4", ch)
		local body_pos = f:seek()
		if id == "fmt " then
			local b = f:read(16)
			info.format_tag, info.channels, info.rate, _, info.block_align, info.bits = string.unpack("<I2 I2 I4 I4 I2 I2", b)
		elseif id == "ds64" then
			local b = f:read(28)
			_, ds64_data_size = string.unpack("<I8 I8", b)
		elseif id == "bext" and size >= 346 then
			local b = f:read(346)
			local lo, hi = string.unpack("<I4 I4", b, 339) -- offset 338 (0-based)
			info.time_reference = lo + hi * 4294967296
			info.bext_description = (b:sub(1, 256):gsub("%z.*", ""))
		elseif id == "data" then
			local dsize = (size == 0xFFFFFFFF and ds64_data_size) or size
			info.data_bytes = dsize
			if size == 0xFFFFFFFF then break end
		end
		f:seek("set", body_pos + size + (size % 2)) -- chunks are word aligned
	end
	f:close()
	assert(info.channels and info.data_bytes, "missing fmt/data chunk: " .. path)
	info.frames = info.data_bytes // info.block_align
	return info
end

---------------------------------------------------------------------------
-- helpers
---------------------------------------------------------------------------
local function read_all(p) local f = assert(io.open(p, "rb")); local s = f:read("a"); f:close(); return s end
local function write_all(p, s)
	local tmp = p .. ".tmp"
	local f = assert(io.open(tmp, "wb")); f:write(s); f:close()
	assert(os.rename(tmp, p))
end
local function xml_esc(s)
	return (tostring(s):gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;"):gsub('"', "&quot;"))
end
local function file_exists(p) local f = io.open(p, "rb"); if f then f:close() return true end return false end
local function basename(p) return (p:gsub("^.*/", "")) end
local function copy_file(src, dst)
	local s = read_all(src)
	local f = assert(io.open(dst, "wb")); f:write(s); f:close()
end
local function pesc(s) return (s:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0")) end

-- insert `text` as last child(ren) of the first element <tag ...> matching attribute pattern
local function append_child(xml, open_pat, tag, text)
	-- self-closing form: <Tag .../>
	local s, e = xml:find("<" .. tag .. open_pat .. "/>")
	if s then
		local el = xml:sub(s, e)
		local opened = el:sub(1, -3) .. ">"
		return xml:sub(1, s - 1) .. opened .. "\n" .. text .. "\n</" .. tag .. ">" .. xml:sub(e + 1)
	end
	s, e = xml:find("<" .. tag .. open_pat .. ">")
	assert(s, "element <" .. tag .. "> not found")
	local cs = xml:find("</" .. tag .. ">", e + 1, true) -- no nested same-name elements for Sources/Regions/Playlist
	assert(cs, "closing </" .. tag .. "> not found")
	return xml:sub(1, cs - 1) .. text .. "\n" .. xml:sub(cs)
end

---------------------------------------------------------------------------
-- main entry point
---------------------------------------------------------------------------
-- items: list of { track=<name>, file=<path>, pos=<samples>|nil, at_timestamp=bool, copy=bool(default true), name=<region name> }
-- returns list of { source_ids, region_id, position (samples), length (samples), path, track }
-- Only RIFF/RF64 WAV is parsed (Ardour itself could read FLAC/AIFF...; convert those first).
function M.import_files(session, items)
	assert(session, "no session")
	local dir = session:path():gsub("/$", "")
	local snap = session:snap_name()
	local sname = session:name()
	local srate = session:nominal_sample_rate()
	local statefile = dir .. "/" .. snap .. ".ardour"

	assert(session:save_state("", false, false, false, false, false) == 0, "save_state failed")
	close_session()

	local xml = read_all(statefile)
	local scps = tonumber(xml:match('<TempoMap[^>]-superclocks%-per%-second="(%d+)"')) or 282240000
	local id_counter = assert(tonumber(xml:match('<Session [^>]-id%-counter="(%d+)"')), "no id-counter")
	local function new_id() id_counter = id_counter + 1; return id_counter end
	local function s2sc(samples, rate) -- samples -> superclock, exact for common rates
		return (samples * scps) // rate
	end

	-- Ardour (SessionDirectory::sources_root) uses the single subfolder of interchange/, else the
	-- *directory* basename - NOT the session name (they differ if create_session(dir, name) used name ~= basename)
	local sub
	do
		local p = io.popen("ls -1 '" .. (dir .. "/interchange"):gsub("'", "'\\''") .. "' 2>/dev/null")
		local subs = {}
		for l in p:lines() do if l:sub(1, 1) ~= "." then subs[#subs + 1] = l end end
		p:close()
		sub = (#subs == 1) and subs[1] or dir:match("([^/]+)$")
	end
	local audiofiles = dir .. "/interchange/" .. sub .. "/audiofiles"
	os.execute("mkdir -p '" .. audiofiles:gsub("'", "'\\''") .. "'")
	-- all directories Ardour will search for sources by basename
	local search_dirs = { audiofiles }
	local asp = xml:match('<Option name="audio%-search%-path" value="([^"]*)"/>') or ""
	for d in asp:gmatch("[^:]+") do search_dirs[#search_dirs + 1] = d end
	local function name_taken(n)
		for _, sd in ipairs(search_dirs) do if file_exists(sd .. "/" .. n) then return true end end
		return false
	end
	local results = {}
	local src_xml, reg_xml = {}, {}

	for _, it in ipairs(items) do
		local src_path = assert(it.file, "file required")
		assert(src_path:sub(1, 1) == "/", "file path must be absolute: " .. src_path)
		local wi = M.wav_info(src_path)
		if wi.rate ~= srate then
			print(string.format("[headless_import] WARNING: %s is %d Hz, session is %d Hz (no resampling is done)", src_path, wi.rate, srate))
		end

		-- where does the file live?
		-- NOTE: an absolute `origin` attribute overrides the path on load (AudioFileSource ctor),
		-- so copied files must have origin="" or Ardour would read the original file.
		local source_name, abs_path, origin
		if it.copy == false then
			-- GOTCHA: Ardour adds the file's directory to the session's audio-search-path and saves
			-- the source by *basename*. If another directory on the search path (e.g. the session's
			-- audiofiles folder) holds a file with the same basename, the next load_session() fails
			-- headless with "source file does not exist" (ambiguous file, no GUI to ask).
			local d = src_path:match("^(.*)/[^/]*$")
			search_dirs[#search_dirs + 1] = d
			for _, sd in ipairs(search_dirs) do
				if sd ~= d and file_exists(sd .. "/" .. basename(src_path)) then
					error("referencing " .. src_path .. " would make '" .. basename(src_path) .. "' ambiguous with " .. sd)
				end
			end
			for sn in xml:gmatch('<Source name="([^"]*)"') do
				if sn:sub(1, 1) ~= "/" and file_exists(d .. "/" .. sn) and d ~= audiofiles then
					error("referencing a file in " .. d .. " would make existing source '" .. sn .. "' ambiguous")
				end
			end
			source_name = src_path              -- absolute path => external (embedded) source
			abs_path = src_path
			origin = src_path
		else
			local base = basename(src_path)
			local stem, ext = base:match("^(.*)(%.[^.]*)$"); if not stem then stem, ext = base, "" end
			local cand, n = base, 1
			while name_taken(cand) do n = n + 1; cand = string.format("%s-%d%s", stem, n, ext) end
			copy_file(src_path, audiofiles .. "/" .. cand)
			source_name = cand                  -- basename => searched in interchange/<name>/audiofiles
			abs_path = audiofiles .. "/" .. cand
			origin = ""
		end

		-- timeline position in samples
		local pos = it.pos or 0
		if it.at_timestamp then
			pos = wi.time_reference or 0     -- Ardour's GUI falls back to "after previous region" when no stamp
		end

		-- target playlist = the track's audio-playlist
		local tname = pesc(xml_esc(it.track))
		local route_tag = xml:match('<Route [^>]- name="' .. tname .. '"[^>]*>')
		assert(route_tag, "track not found: " .. it.track)
		local pl_id = assert(route_tag:match('audio%-playlist="(%d+)"'), "not an audio track: " .. it.track)

		local rname = it.name or (basename(source_name):gsub("%.[^.]*$", ""))
		local len_sc = s2sc(wi.frames, srate) -- Ardour reads the file 1:1 at the session rate (no SRC)
		local pos_sc = s2sc(pos, srate)

		local channels = it.channels or { it.channel or 0 } -- which file channels to use (one Source each)
		local srcattrs, ids = {}, {}
		for i, ch in ipairs(channels) do
			assert(ch < wi.channels, "file has only " .. wi.channels .. " channels")
			local sid = new_id()
			ids[#ids + 1] = sid
			src_xml[#src_xml + 1] = string.format(
				'    <Source name="%s" type="audio" flags="" id="%d" captured-for="" take-id="" channel="%d" origin="%s" gain="1" natural-position="a%d"/>',
				xml_esc(source_name), sid, ch, xml_esc(origin), s2sc(wi.time_reference or 0, srate))
			srcattrs[#srcattrs + 1] = string.format('source-%d="%d" master-source-%d="%d"', i - 1, sid, i - 1, sid)
		end
		local common = 'muted="0" opaque="1" locked="0" video-locked="0" import="1" external="0" sync-marked="0" left-of-split="0" right-of-split="0" hidden="0" position-locked="0" valid-transients="0" start="a0" sync-position="a0" ancestral-start="a0" ancestral-length="a0@a0" stretch="1" shift="1" layering-index="0" tags="" contents="0" envelope-active="0" default-fade-in="0" default-fade-out="0" fade-in-active="1" fade-out-active="1" scale-amplitude="1" type="audio" first-edit="nothing" '
			.. table.concat(srcattrs, " ") .. string.format(' channels="%d"', #channels)
		-- whole-file (master) region, as the GUI import creates it
		local wid = new_id()
		-- its position stores the file's "natural" (BWF) position, like the GUI's special_set_position();
		-- Region:move_to_natural_position()/at_natural_position() use it.
		reg_xml[#reg_xml + 1] = string.format('    <Region name="%s" automatic="1" whole-file="1" length="a%d@a%d" id="%d" %s/>',
			xml_esc(rname), len_sc, s2sc(wi.time_reference or 0, srate), wid, common)
		-- region on the playlist
		local rid = new_id()
		local preg = string.format('      <Region name="%s.1" automatic="0" whole-file="0" length="a%d@a%d" id="%d" %s/>',
			xml_esc(rname), len_sc, pos_sc, rid, common)
		xml = append_child(xml, '%s[^>]-id="' .. pl_id .. '"[^>]-', "Playlist", preg)

		results[#results + 1] = { source_ids = ids, region_id = rid, position = pos, length = wi.frames, path = abs_path, track = it.track }
	end

	-- extend (or create) the session range, as the GUI does when the first region is added.
	-- Without it, ardour7-export exports nothing (44-byte WAV).
	if #results > 0 then
		local lo, hi
		for _, r in ipairs(results) do
			local a, b = s2sc(r.position, srate), s2sc(r.position, srate) + s2sc(r.length, srate)
			lo = (lo and math.min(lo, a)) or a; hi = (hi and math.max(hi, b)) or b
		end
		local s0, e0, loc = xml:find('(<Location [^>]-flags="IsSessionRange"[^>]-/>)')
		if loc then
			local os_, oe_ = tonumber(loc:match(' start="a(%d+)"')), tonumber(loc:match(' end="a(%d+)"'))
			if os_ and oe_ then
				local nl = loc:gsub(' start="a%d+"', ' start="a' .. math.min(lo, os_) .. '"', 1)
				             :gsub(' end="a%d+"', ' end="a' .. math.max(hi, oe_) .. '"', 1)
				xml = xml:sub(1, s0 - 1) .. nl .. xml:sub(e0 + 1)
			end
		else
			xml = append_child(xml, "", "Locations", string.format(
				'    <Location id="%d" name="session" start="a%d" end="a%d" flags="IsSessionRange" locked="0" timestamp="%d" cue="0"/>',
				new_id(), lo, hi, os.time()))
		end
	end

	if #src_xml > 0 then xml = append_child(xml, "", "Sources", table.concat(src_xml, "\n")) end
	if #reg_xml > 0 then xml = append_child(xml, "", "Regions", table.concat(reg_xml, "\n")) end
	xml = xml:gsub('(<Session [^>]-id%-counter=")(%d+)(")', "%1" .. (id_counter + 1) .. "%3", 1)
	write_all(statefile, xml)

	assert(load_session(dir, snap), "load_session failed after import: " .. dir)
	return results
end

return M
