-- Runs bridge/clients/reaper_sfx.lua against a stand-in for REAPER's ReaScript API.
-- Usage: lua5.4 reaper_mock.lua SCRIPT IMITATION "LABEL,VARIATIONS"
-- Prints INSERTED <path> for every file the script inserts, and TRACK <name>.
local script, imitation, answer = arg[1], arg[2], arg[3]
local item, take, source, track = {}, {}, {}, {}
local cursor = 12.5
reaper = {
  GetSelectedMediaItem = function(_, _) return item end,
  GetActiveTake = function(i) assert(i == item); return take end,
  TakeIsMIDI = function(_) return false end,
  GetMediaItemTake_Source = function(t) assert(t == take); return source end,
  GetMediaSourceFileName = function(s, _) assert(s == source); return imitation end,
  GetUserInputs = function(_, n, _, _) assert(n == 2); return true, answer end,
  ExecProcess = function(command, timeout)
    local pipe = io.popen(command .. " 2>/dev/null; echo __rc=$?")
    local output = pipe:read("a")
    pipe:close()
    local body, rc = output:match("^(.-)__rc=(%d+)%s*$")
    return rc .. "\n" .. body
  end,
  ShowMessageBox = function(text, _, _) print("MESSAGE " .. text:gsub("\n", " ")) end,
  Undo_BeginBlock = function() end,
  Undo_EndBlock = function(_, _) end,
  CountTracks = function(_) return 3 end,
  InsertTrackAtIndex = function(index, _) assert(index == 3) end,
  GetTrack = function(_, index) assert(index == 3); return track end,
  GetSetMediaTrackInfo_String = function(t, key, value, set) assert(t == track and key == "P_NAME" and set); print("TRACK " .. value) end,
  SetOnlyTrackSelected = function(t) assert(t == track) end,
  GetCursorPosition = function() return cursor end,
  SetEditCurPos = function(pos, _, _) assert(pos == cursor) end,
  InsertMedia = function(file, mode) assert(mode == 0); print("INSERTED " .. file) end,
}
dofile(script)
