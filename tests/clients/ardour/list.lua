-- ardour7-lua list.lua DIR: the session's tracks in editor order, their regions and sources, one line each
local here = debug.getinfo (1, "S").source:match ("^@(.*/)") or "./"
local open_session = dofile (here .. "open_session.lua")
local L = dofile (here .. "list_session.lua")
assert (open_session (arg[1]), "load_session failed")
L.print (Session)
close_session ()
