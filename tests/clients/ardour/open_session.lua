-- open_session.lua: load_session(dir, "") only works if <dir>/instant.xml exists (it is written
-- on the first *load*, not by create_session) or the snapshot is named like the directory.
-- Otherwise it fails with "Cannot get samplerate from session." -> find the snapshot ourselves.
return function(dir, snapshot)
	dir = dir:gsub("/+$", "")
	if not snapshot or snapshot == "" then
		local f = io.open(dir .. "/instant.xml", "r")
		if f then snapshot = f:read("a"):match('<LastUsedSnapshot name="([^"]+)"'); f:close() end
	end
	if not snapshot or snapshot == "" then
		local base = dir:match("([^/]+)$")
		local f = io.open(dir .. "/" .. base .. ".ardour", "r")
		if f then f:close(); snapshot = base end
	end
	if not snapshot or snapshot == "" then
		local p = io.popen("ls -1 '" .. dir:gsub("'", "'\\''") .. "' 2>/dev/null")
		for l in p:lines() do
			local n = l:match("^(.+)%.ardour$")
			if n then snapshot = n; break end
		end
		p:close()
	end
	assert(snapshot, "no .ardour snapshot in " .. dir)
	return load_session(dir, snapshot)
end
