-- sfx for REAPER: turn the selected item's take into sound effects, placed under it on the timeline.
--
-- Install once:
--   1. Start the server, with your projects' folder as a root:
--        sfx serve --project-root ~/Music        (Windows: sfx serve --project-root %USERPROFILE%\Music)
--   2. Actions > Show action list > New action > Load ReaScript..., pick this file;
--      give it a shortcut there (Add... under Shortcuts).
-- Use: select the item holding your vocal imitation, run the action, type a label.
--   REAPER stays responsive while sfx works (a small window shows progress; Cancel or Esc stops it).
--   The variations arrive on a new track right under the take's track, at the take's position, as takes of
--   one item (cycle them with the usual take shortcuts, T / Shift+T); the files go into the project's media
--   folder, under sfx/. One undo step removes them.
--
-- The take is sent as it is heard: only the item's section of its source (start offset, length and play rate;
-- section and reversed sources resolved to their file), with its timeline position, so each file's BWF
-- TimeReference puts it back where the take is.
--
-- REAPER's Lua has no OSC, so the script starts `sfx send` in the background and polls for its answer.
-- Set SFX_COMMAND (the full path of sfx) and SFX_PORT in REAPER's environment, or edit the two lines below.

local SFX = os.getenv("SFX_COMMAND") or "sfx"
local PORT = os.getenv("SFX_PORT") or "9001"
local TITLE = "sfx"

local windows = reaper.GetOS():find("Win") ~= nil

local function message(text)
  reaper.ShowMessageBox(text, TITLE, 0)
end

-- quoting for the one command line the script runs: paths only (the label travels in a JSON file)
local function quote(text)
  if windows then
    return '"' .. text:gsub('"', '\\"') .. '"'
  end
  return "'" .. text:gsub("'", "'\\''") .. "'"
end

local function json_string(text)
  local escaped = text:gsub('[%c"\\]', function(c)
    local named = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
    return named[c] or string.format("\\u%04x", c:byte())
  end)
  return '"' .. escaped .. '"'
end

-- the answer `sfx send --out` writes: {"id": ..., "files": [...]} or {"id": ..., "error": "..."}
local function read_answer(path)
  local handle = io.open(path, "r")
  if not handle then return nil end
  local text = handle:read("a")
  handle:close()
  local function unescape(s)
    return (s:gsub('\\u(%x%x%x%x)', function(h) return utf8.char(tonumber(h, 16)) end)
             :gsub('\\(["\\/bfnrt])', { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }))
  end
  local err = text:match('"error"%s*:%s*"(.-)"%s*[,}]')
  if err then return { error = unescape(err) } end
  local list = text:match('"files"%s*:%s*%[(.-)%]')
  if not list then return nil end
  local files = {}
  for item in list:gmatch('"(.-[^\\])"') do files[#files + 1] = unescape(item) end
  return { files = files }
end

local function read_progress(path)
  local handle = io.open(path, "r")
  if not handle then return nil end
  local text = handle:read("a")
  handle:close()
  local fraction = tonumber(text:match('"fraction"%s*:%s*([%d%.eE%-]+)') or "")
  return fraction, text:match('"message"%s*:%s*"(.-)"')
end

local function basename(path)
  return path:match("([^/\\]+)$") or path
end

-- the source file and the section of it the take plays, through section and reverse wrappers
local function take_section(take)
  local source = reaper.GetMediaItemTake_Source(take)
  local offset, length, reversed = 0.0, nil, false
  while source do
    local is_section, offs, len, rev = reaper.PCM_Source_GetSectionInfo(source)
    local parent = reaper.GetMediaSourceParent(source)
    if not parent then break end
    if is_section then -- offsets add up through nested sections; reversing twice plays forwards
      offset = offset + offs
      length = length or len
      if rev then reversed = not reversed end
    end
    source = parent
  end
  return source, offset, length, reversed
end

local function start_request()
  local item = reaper.GetSelectedMediaItem(0, 0)
  if not item then
    return message("Select the item with your vocal imitation first, then run sfx again.")
  end
  local take = reaper.GetActiveTake(item)
  if not take or reaper.TakeIsMIDI(take) then
    return message("The selected item has no audio take: select an audio item.")
  end
  local source, section_offset, section_length, reversed = take_section(take)
  local file = source and reaper.GetMediaSourceFileName(source) or ""
  if file == "" or not reaper.file_exists(file) then
    return message("The take's file is offline (" .. (file ~= "" and file or "no file") .. "): bring it back online first.")
  end
  local ok, answer = reaper.GetUserInputs(TITLE, 2, "What should it become?,Variations,extrawidth=120", "door creak,4")
  if not ok then return end
  local label, variations = answer:match("^(.-),%s*(%d+)%s*$")
  if not label or label:match("^%s*$") then
    return message("Type what the sound should become, for example: door creak")
  end

  local position = reaper.GetMediaItemInfo_Value(item, "D_POSITION")
  local item_length = reaper.GetMediaItemInfo_Value(item, "D_LENGTH")
  local start_offset = reaper.GetMediaItemTakeInfo_Value(take, "D_STARTOFFS")
  local playrate = reaper.GetMediaItemTakeInfo_Value(take, "D_PLAYRATE")
  local heard = item_length * playrate -- seconds of the source the item plays
  local offset
  if reversed then
    offset = section_offset + (section_length or heard) - start_offset - heard
  else
    offset = section_offset + start_offset
  end
  offset = math.max(0.0, offset)

  local project = reaper.GetProjectPathEx(0)
  local id = string.format("reaper-%d-%d", os.time(), math.random(100000, 999999))
  local jobs = reaper.GetResourcePath() .. (windows and "\\" or "/") .. "sfx-jobs"
  reaper.RecursiveCreateDirectory(jobs, 0)
  local base = jobs .. (windows and "\\" or "/") .. id
  local options = {
    '"variations": ' .. tonumber(variations),
    '"offset": ' .. string.format("%.6f", offset),
    '"length": ' .. string.format("%.6f", heard),
    '"position": ' .. string.format("%.6f", position),
    '"project": ' .. json_string(project),
  }
  if reversed then options[#options + 1] = '"reverse": 1' end
  if math.abs(playrate - 1.0) > 1e-6 then -- the results last as long as the item does on the timeline
    options[#options + 1] = '"seconds": ' .. string.format("%.6f", item_length)
  end
  local handle = io.open(base .. ".request.json", "w")
  if not handle then return message("Cannot write into " .. jobs .. ".") end
  handle:write('{"id": ' .. json_string(id) .. ', "imitation": ' .. json_string(file) .. ', "label": '
               .. json_string(label) .. ', "options": {' .. table.concat(options, ", ") .. "}}")
  handle:close()
  local command = quote(SFX) .. " send --request " .. quote(base .. ".request.json") .. " --out "
    .. quote(base .. ".answer.json") .. " --progress " .. quote(base .. ".progress.json") .. " --port " .. PORT .. " -q"
  reaper.ExecProcess(command, -1) -- -1: start it and return at once

  return {
    id = id, base = base, label = label, item = item, position = position,
    track = reaper.GetMediaItem_Track(item),
  }
end

local function place(job, files)
  reaper.PreventUIRefresh(1)
  reaper.Undo_BeginBlock()
  local index = math.floor(reaper.GetMediaTrackInfo_Value(job.track, "IP_TRACKNUMBER")) -- 1-based: insert after
  reaper.InsertTrackAtIndex(index, true)
  local track = reaper.GetTrack(0, index)
  reaper.GetSetMediaTrackInfo_String(track, "P_NAME", "sfx: " .. job.label, true)
  local item = reaper.AddMediaItemToTrack(track)
  reaper.SetMediaItemInfo_Value(item, "D_POSITION", job.position)
  local longest, first = 0.0, nil
  for _, file in ipairs(files) do
    local take = reaper.AddTakeToMediaItem(item)
    local source = reaper.PCM_Source_CreateFromFile(file)
    reaper.SetMediaItemTake_Source(take, source)
    reaper.GetSetMediaItemTakeInfo_String(take, "P_NAME", basename(file), true)
    longest = math.max(longest, (reaper.GetMediaSourceLength(source)))
    first = first or take
  end
  reaper.SetMediaItemInfo_Value(item, "D_LENGTH", longest)
  if first then reaper.SetActiveTake(first) end
  reaper.UpdateArrange()
  reaper.Undo_EndBlock("sfx: " .. job.label, -1)
  reaper.PreventUIRefresh(-1)
end

local function cleanup(job)
  for _, suffix in ipairs({ ".request.json", ".answer.json", ".progress.json" }) do os.remove(job.base .. suffix) end
end

local function cancel(job)
  reaper.ExecProcess(quote(SFX) .. " send --cancel " .. quote(job.id) .. " --port " .. PORT .. " -q", -1)
  gfx.quit()
  cleanup(job)
end

local function poll(job)
  local answer = read_answer(job.base .. ".answer.json")
  if answer then
    gfx.quit()
    cleanup(job)
    if answer.error then
      local hint = answer.error:find("nothing is listening") and
        "\n\nStart it first:  sfx serve --project-root <your projects folder>" or ""
      return message("sfx: " .. answer.error .. hint)
    end
    return place(job, answer.files)
  end
  local key = gfx.getchar()
  if key == 27 or key < 0 then return cancel(job) end -- Esc, or the window was closed
  local fraction, text = read_progress(job.base .. ".progress.json")
  gfx.set(0.9, 0.9, 0.9)
  gfx.rect(0, 0, gfx.w, gfx.h, true)
  gfx.set(0.1, 0.1, 0.1)
  gfx.x, gfx.y = 10, 10
  gfx.drawstr(string.format("%s: %d%%  %s", job.label, math.floor(100 * (fraction or 0)), text or "waiting for sfx serve"))
  gfx.x, gfx.y = 10, 34
  gfx.drawstr("Esc or close this window to cancel")
  gfx.update()
  reaper.defer(function() poll(job) end)
end

local job = start_request()
if job then
  gfx.init(TITLE .. ": generating", 420, 60)
  reaper.defer(function() poll(job) end)
end
