-- A stand-in for the ReaScript API, enough to run bridge/clients/reaper_sfx.lua under a plain Lua 5.4.
--
-- Every function it offers is checked against REAPER's published API list (reaper_api.txt beside this file,
-- with its source in its header): a name the list lacks cannot be defined, and every call is checked for its
-- number of arguments against the list's Lua signature. A script calling anything else fails.
--
-- It models one project: three tracks, the take's item on the second; the media folder is MEDIA.
-- reaper.defer queues a function; the loop below runs the queue as REAPER's event loop would (with a short
-- sleep per turn), so a script that waits by deferring is seen to do so without blocking.
--
-- Usage: lua5.4 reaper_mock.lua SCRIPT SCENARIO_FILE
--   the scenario file is Lua returning a table: {imitation=, media=, answer=, selected=, offline=,
--   startoffs=, length=, playrate=, position=, section={offs, len, rev}, close_after=}
-- Prints one line per event: MESSAGE, EXEC, DEFER, TRACK, ITEM, TAKE, UNDO, GFX_QUIT, and SIGNATURE errors.

local script, scenario_file = arg[1], arg[2]
local scenario = dofile(scenario_file)
local here = arg[0]:match("^(.*)/") or "."

-- REAPER's API list: name -> {min, max} arguments
local signatures = {}
for line in io.lines(here .. "/reaper_api.txt") do
  local name, signature = line:match("^([%w_%.]+)\t(.*)$")
  if name then
    local params = signature:match("%((.*)%)%s*$") or ""
    local required = params:match("^([^%[]*)%[") or params
    local function count(text)
      local n = 0
      for part in text:gmatch("[^,]+") do
        if part:match("%S") and not part:match("^%s*optional ") then n = n + 1 end
      end
      return n
    end
    local total = count(params:gsub("[%[%]]", ""))
    signatures[name] = { count(required), total }
  end
end

local function out(...) print(table.concat({ ... }, "\t")) end

local function api(table_, prefix, name, fn)
  local full = (prefix == "reaper" and "" or prefix .. ".") .. name
  local signature = signatures[full]
  assert(signature, "the stand-in defines " .. full .. ", which is not in REAPER's API list")
  table_[name] = function(...)
    local n = select("#", ...)
    if n < signature[1] or n > signature[2] then
      out("SIGNATURE", full, "called with " .. n .. " arguments; REAPER's takes " .. signature[1] .. ".." .. signature[2])
    end
    return fn(...)
  end
end

local function strict(prefix)
  return setmetatable({}, { __index = function(_, key)
    error(prefix .. "." .. tostring(key) .. " is not part of this stand-in (or of REAPER's API)", 2)
  end })
end

-- the project
local project = { tracks = { { name = "Dialogue" }, { name = "Takes" }, { name = "Music" } } }
local source = { file = scenario.imitation, length = 3.0 }
if scenario.section then
  source = { parent = source, section = scenario.section, length = scenario.section[2] }
end
local item = { track = project.tracks[2], position = scenario.position or 12.25, length = scenario.length or 1.5,
               takes = {} }
local take = { item = item, source = source, startoffs = scenario.startoffs or 0.5, playrate = scenario.playrate or 1.0 }
item.takes[1] = take
item.active = take
project.tracks[2].items = { item }

local queue, frames, closed = {}, 0, false
reaper = strict("reaper")
gfx = strict("gfx")
rawset(gfx, "w", 420) rawset(gfx, "h", 60) rawset(gfx, "x", 0) rawset(gfx, "y", 0)

local function track_number(track)
  for i, t in ipairs(project.tracks) do if t == track then return i end end
end

api(reaper, "reaper", "GetOS", function() return "Other" end)
api(reaper, "reaper", "ShowMessageBox", function(text, _, _) out("MESSAGE", (text:gsub("\n", " "))) return 1 end)
api(reaper, "reaper", "GetSelectedMediaItem", function(_, index)
  if scenario.selected == false or index > 0 then return nil end
  return item
end)
api(reaper, "reaper", "GetActiveTake", function(i) return i.active end)
api(reaper, "reaper", "TakeIsMIDI", function(_) return false end)
api(reaper, "reaper", "GetMediaItemTake_Source", function(t) return t.source end)
api(reaper, "reaper", "GetMediaSourceParent", function(s) return s.parent end)
api(reaper, "reaper", "PCM_Source_GetSectionInfo", function(s)
  if s.section then return true, s.section[1], s.section[2], s.section[3] end
  return false, 0.0, s.length, false
end)
api(reaper, "reaper", "GetMediaSourceFileName", function(s) return s.file or "" end)
api(reaper, "reaper", "file_exists", function(path)
  if scenario.offline then return false end
  local handle = io.open(path, "r")
  if handle then handle:close() return true end
  return false
end)
api(reaper, "reaper", "GetUserInputs", function(_, n, _, _) assert(n == 2) return true, scenario.answer or "door creak,2" end)
api(reaper, "reaper", "GetMediaItemInfo_Value", function(i, key)
  local values = { D_POSITION = i.position, D_LENGTH = i.length }
  return assert(values[key], key)
end)
api(reaper, "reaper", "GetMediaItemTakeInfo_Value", function(t, key)
  local values = { D_STARTOFFS = t.startoffs, D_PLAYRATE = t.playrate }
  return assert(values[key], key)
end)
api(reaper, "reaper", "GetProjectPathEx", function(_) return scenario.media end)
api(reaper, "reaper", "GetResourcePath", function() return scenario.resources end)
api(reaper, "reaper", "RecursiveCreateDirectory", function(path, _) os.execute("mkdir -p '" .. path .. "'") return 1 end)
api(reaper, "reaper", "GetMediaItem_Track", function(i) return i.track end)
api(reaper, "reaper", "ExecProcess", function(command, timeout)
  out("EXEC", tostring(timeout))
  if timeout ~= -1 then out("BLOCKING", command) end
  os.execute(command .. " >/dev/null 2>&1 &")
  return "0\n"
end)
api(reaper, "reaper", "defer", function(fn) queue[#queue + 1] = fn end)
api(reaper, "reaper", "PreventUIRefresh", function(_) end)
api(reaper, "reaper", "Undo_BeginBlock", function() out("UNDO", "begin") end)
api(reaper, "reaper", "Undo_EndBlock", function(label, _) out("UNDO", "end", label) end)
api(reaper, "reaper", "GetMediaTrackInfo_Value", function(track, key)
  assert(key == "IP_TRACKNUMBER", key)
  return track_number(track) + 0.0
end)
api(reaper, "reaper", "InsertTrackAtIndex", function(index, _)
  table.insert(project.tracks, index + 1, { name = "", items = {} })
  out("TRACK", "inserted", tostring(index))
end)
api(reaper, "reaper", "GetTrack", function(_, index) return project.tracks[index + 1] end)
api(reaper, "reaper", "GetSetMediaTrackInfo_String", function(track, key, value, set)
  assert(key == "P_NAME" and set)
  track.name = value
  return true, value
end)
api(reaper, "reaper", "AddMediaItemToTrack", function(track)
  local new = { track = track, takes = {}, position = 0, length = 0 }
  track.items = track.items or {}
  track.items[#track.items + 1] = new
  return new
end)
api(reaper, "reaper", "SetMediaItemInfo_Value", function(i, key, value)
  if key == "D_POSITION" then i.position = value elseif key == "D_LENGTH" then i.length = value else error(key) end
  return true
end)
api(reaper, "reaper", "AddTakeToMediaItem", function(i)
  local new = { item = i }
  i.takes[#i.takes + 1] = new
  return new
end)
api(reaper, "reaper", "PCM_Source_CreateFromFile", function(file) return { file = file, length = 2.0 } end)
api(reaper, "reaper", "SetMediaItemTake_Source", function(t, s) t.source = s return true end)
api(reaper, "reaper", "GetSetMediaItemTakeInfo_String", function(t, key, value, set)
  assert(key == "P_NAME" and set)
  t.name = value
  return true, value
end)
api(reaper, "reaper", "GetMediaSourceLength", function(s) return s.length, false end)
api(reaper, "reaper", "SetActiveTake", function(t) t.item.active = t end)
api(reaper, "reaper", "UpdateArrange", function() end)

api(gfx, "gfx", "init", function(name, _, _) out("GFX", "init", name) return 1 end)
api(gfx, "gfx", "quit", function() out("GFX_QUIT") end)
api(gfx, "gfx", "getchar", function()
  if scenario.close_after and frames >= scenario.close_after then closed = true end
  return closed and -1 or 0
end)
api(gfx, "gfx", "set", function(...) end)
api(gfx, "gfx", "rect", function(...) end)
api(gfx, "gfx", "drawstr", function(text) if frames % 20 == 0 then out("SHOWN", text) end end)
api(gfx, "gfx", "update", function() end)

dofile(script)

-- REAPER's event loop: run what was deferred, turn after turn
local started = os.clock()
while #queue > 0 do
  local turn = queue
  queue = {}
  for _, fn in ipairs(turn) do fn() end
  frames = frames + 1
  os.execute("sleep 0.02")
  if frames > 3000 then out("TIMEOUT") break end
end
out("DEFER", tostring(frames))

-- what the project looks like now
for index, track in ipairs(project.tracks) do
  for _, i in ipairs(track.items or {}) do
    if i ~= item then
      out("ITEM", tostring(index), track.name, string.format("%.6f", i.position), string.format("%.3f", i.length),
          tostring(#i.takes))
      for _, t in ipairs(i.takes) do out("TAKE", t.source.file, t.name or "", tostring(t.item.active == t)) end
    end
  end
end
