-- list_session.lua: returns a function that prints (and returns) tracks + regions of a Session
local M = {}
local function sc(t) return t:samples() end   -- timepos_t / timecnt_t -> samples
function M.collect(session)
	local out = {}
	-- get_tracks() is not sorted; sort by presentation order (= editor order)
	local tracks = {}
	for t in session:get_tracks():iter() do tracks[#tracks + 1] = t end
	table.sort(tracks, function(a, b) return a:presentation_info_ptr():order() < b:presentation_info_ptr():order() end)
	for _, rt in ipairs(tracks) do
		local t = rt:to_track()  -- get_tracks() yields Route objects; cast to Track
		local tr = { name = t:name(), order = t:presentation_info_ptr():order(), id = t:to_stateful():id():to_s(),
		             n_inputs = t:n_inputs():n_audio(), is_audio = not t:to_audio_track():isnil(), regions = {} }
		local pl = t:playlist()
		for r in pl:region_list():iter() do
			local reg = { name = r:name(), position = sc(r:position()), length = sc(r:length()), start = sc(r:start()), sources = {} }
			local ar = r:to_audioregion()
			local nch = ar:isnil() and 1 or ar:n_channels()
			for i = 0, nch - 1 do
				local src = r:source(i)
				local fs = src:to_filesource()
				reg.sources[#reg.sources + 1] = { name = src:name(), path = fs:isnil() and "" or fs:path(),
				                                  natural_position = src:natural_position():samples() }
			end
			tr.regions[#tr.regions + 1] = reg
		end
		out[#out + 1] = tr
	end
	return out
end
function M.print(session)
	local data = M.collect(session)
	for _, t in ipairs(data) do
		print(string.format("TRACK order=%d name=%q inputs=%d regions=%d", t.order, t.name, t.n_inputs, #t.regions))
		for _, r in ipairs(t.regions) do
			print(string.format("  REGION name=%q position=%d length=%d start=%d", r.name, r.position, r.length, r.start))
			for _, s in ipairs(r.sources) do
				print(string.format("    SOURCE name=%q path=%q natural_position=%d", s.name, s.path, s.natural_position))
			end
		end
	end
	return data
end
return M
