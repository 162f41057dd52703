-- sfx for REAPER: turn the selected item's take into sound effects.
--
-- How to use:
--   1. Start the server once:  sfx serve --project <your REAPER project folder>
--   2. Actions > Show action list > New action > Load ReaScript..., pick this file.
--   3. Select the item holding your vocal imitation, run the action, type a label.
--   The results land on a new track at the edit cursor.
--
-- REAPER has no OSC client in ReaScript, so this script calls `sfx send`,
-- which speaks OSC to the running server and prints one path per line.
-- Set SFX to the full path of the sfx command if it is not on REAPER's PATH
-- (or set the environment variables SFX_COMMAND and SFX_PORT before starting REAPER).

local SFX = os.getenv("SFX_COMMAND") or "sfx"
local PORT = os.getenv("SFX_PORT") or "9001"

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local item = reaper.GetSelectedMediaItem(0, 0)
if not item then
  reaper.ShowMessageBox("Select the item with your vocal imitation first.", "sfx", 0)
  return
end
local take = reaper.GetActiveTake(item)
if not take or reaper.TakeIsMIDI(take) then
  reaper.ShowMessageBox("The selected item has no audio take.", "sfx", 0)
  return
end
local source = reaper.GetMediaItemTake_Source(take)
local path = reaper.GetMediaSourceFileName(source, "")
local ok, label = reaper.GetUserInputs("sfx", 2, "What should it become?,Variations", "door creak,4")
if not ok then return end
local name, variations = label:match("^(.-),(%d+)$")
if not name or name == "" then return end

local command = SFX .. " send " .. shell_quote(path) .. " " .. shell_quote(name)
  .. " --port " .. PORT .. " -q -o variations=" .. variations
local output = reaper.ExecProcess(command, 120000)
if not output then
  reaper.ShowMessageBox("Could not run `" .. SFX .. " send`. Is sfx installed and `sfx serve` running?", "sfx", 0)
  return
end
-- ExecProcess returns "<exit code>\n<output>"
local code, rest = output:match("^(%-?%d+)\n(.*)$")
if code ~= "0" then
  reaper.ShowMessageBox("sfx failed:\n" .. (rest or output), "sfx", 0)
  return
end

reaper.Undo_BeginBlock()
local index = reaper.CountTracks(0)
reaper.InsertTrackAtIndex(index, true)
local track = reaper.GetTrack(0, index)
reaper.GetSetMediaTrackInfo_String(track, "P_NAME", "sfx: " .. name, true)
reaper.SetOnlyTrackSelected(track)
local cursor = reaper.GetCursorPosition()
for file in rest:gmatch("[^\n]+") do
  reaper.SetEditCurPos(cursor, false, false)
  reaper.InsertMedia(file, 0) -- 0: add to the selected track at the edit cursor
end
reaper.SetEditCurPos(cursor, true, false)
reaper.Undo_EndBlock("sfx: generate " .. name, -1)
