"""Sound effects in Debian's game and data packages: which files the built-in library takes, under which licence.

Each :class:`Package` names a Debian package (the version the library was
built from), which of its files are sound effects (music, speech and
interface chatter are left out), and how cryptic file names become labels.
The licence and author of every file come from the package's
``usr/share/doc/PKG/copyright``: for machine-readable (DEP-5) files, the last
``Files:`` stanza that matches the file decides, as the format says; for the
few packages whose copyright file is prose, the table states what it says.
Where a copyright file gives one blanket licence but the credits the same
source package ships name a file's own origin and licence (Tux Paint's
``AUTHORS.txt``), the table takes those credits for that file instead.
A file whose licence is not one of :data:`ALLOWED` is never taken.

Fetching (needs the network; the built library is committed, so tests and CI
never do this)::

    python -m sfxcli.library.debian /tmp/sfx-debian

runs ``apt-get download`` for each package and unpacks it with
``dpkg-deb -x`` into ``/tmp/sfx-debian/PKG/``. Archives inside a package
(``.pk3``, ``.wz``, ``.zip``) are read in place.
"""

from __future__ import annotations

import fnmatch
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from sfxcli.library.index import words_of

# Licences compatible with distribution under GPL-3.0-or-later, by the name the manifest gives them.
ALLOWED = frozenset({
    "CC0", "public domain", "CC BY", "CC BY 1.0", "CC BY 2.0", "CC BY 2.5", "CC BY 3.0", "CC BY 4.0", "CC BY-SA 4.0",
    "GPL-2.0-or-later", "GPL-3.0-only", "GPL-3.0-or-later", "LGPL-2.0-or-later", "LGPL-2.1-only", "LGPL-2.1-or-later",
    "LGPL-3.0-or-later", "BSD-2-Clause", "BSD-3-Clause", "MIT", "Zlib", "ISC",
})
# where each licence's text is (CREDITS.md links them)
LICENCE_LINKS = {
    "CC0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "public domain": "(no rights reserved)",
    "CC BY": "https://creativecommons.org/licenses/by/4.0/ (version not stated by the source)",
    "CC BY 1.0": "https://creativecommons.org/licenses/by/1.0/",
    "CC BY 2.0": "https://creativecommons.org/licenses/by/2.0/",
    "CC BY 2.5": "https://creativecommons.org/licenses/by/2.5/",
    "CC BY 3.0": "https://creativecommons.org/licenses/by/3.0/",
    "CC BY 4.0": "https://creativecommons.org/licenses/by/4.0/",
    "CC BY-SA 4.0": "https://creativecommons.org/licenses/by-sa/4.0/",
    "GPL-2.0-or-later": "https://www.gnu.org/licenses/old-licenses/gpl-2.0.html",
    "GPL-3.0-only": "https://www.gnu.org/licenses/gpl-3.0.html",
    "GPL-3.0-or-later": "https://www.gnu.org/licenses/gpl-3.0.html",
    "LGPL-2.0-or-later": "https://www.gnu.org/licenses/old-licenses/lgpl-2.0.html",
    "LGPL-2.1-only": "https://www.gnu.org/licenses/old-licenses/lgpl-2.1.html",
    "LGPL-2.1-or-later": "https://www.gnu.org/licenses/old-licenses/lgpl-2.1.html",
    "LGPL-3.0-or-later": "https://www.gnu.org/licenses/lgpl-3.0.html",
    "BSD-2-Clause": "https://opensource.org/license/bsd-2-clause",
    "BSD-3-Clause": "https://opensource.org/license/bsd-3-clause",
    "MIT": "https://opensource.org/license/mit",
    "Zlib": "https://opensource.org/license/zlib",
    "ISC": "https://opensource.org/license/isc-license-txt",
}
# DEP-5 short names (lower case) -> the manifest's name; anything else is not taken
_DEP5 = {
    "cc0": "CC0", "cc0-1.0": "CC0", "public-domain": "public domain", "pd": "public domain",
    "cc-by": "CC BY", "cc-by-1.0": "CC BY 1.0", "cc-by-2.0": "CC BY 2.0", "cc-by-2.5": "CC BY 2.5",
    "cc-by-3.0": "CC BY 3.0", "cc-by-4.0": "CC BY 4.0", "cc-by-sa-4.0": "CC BY-SA 4.0",
    "gpl-2+": "GPL-2.0-or-later", "gpl-2.0+": "GPL-2.0-or-later", "gpl-2.0-or-later": "GPL-2.0-or-later",
    "gpl-3": "GPL-3.0-only", "gpl-3.0": "GPL-3.0-only", "gpl-3+": "GPL-3.0-or-later", "gpl-3.0+": "GPL-3.0-or-later",
    "gpl-3.0-or-later": "GPL-3.0-or-later", "lgpl-2+": "LGPL-2.0-or-later", "lgpl-2.1": "LGPL-2.1-only",
    "lgpl-2.1+": "LGPL-2.1-or-later", "lgpl-3+": "LGPL-3.0-or-later", "lgpl-3.0+": "LGPL-3.0-or-later",
    "lgpl-3.0-or-later": "LGPL-3.0-or-later", "bsd-2-clause": "BSD-2-Clause", "bsd-3-clause": "BSD-3-Clause",
    "expat": "MIT", "mit": "MIT", "zlib": "Zlib", "isc": "ISC",
}
AUDIO = (".wav", ".ogg", ".oga", ".flac", ".mp3")
ARCHIVES = (".pk3", ".wz", ".zip")
# never sound effects: music, speech and the like, wherever they are
NOT_EFFECTS = re.compile(r"/(music|tunes|anthem|speech|voc|tutorial|codriver|announcer|feedback|taunts?|intro|tcas|"
                         r"mk-viii|memressp|vtoltalk|countdown|nexus|trnsppil|proxmessages|coltive|multi|extra|"
                         r"sequenceaudio|campaigns|meet)/|music|silence|/checklist", re.I)


@dataclass(frozen=True)
class Package:
    """One Debian package and what the library takes from it."""

    name: str
    version: str
    include: tuple[str, ...]  # fnmatch patterns on paths inside the package; archive members as ARCHIVE/member
    exclude: str = ""  # regex searched in the path: files that are not taken
    licence: str = ""  # for a prose copyright file, or where the package's own credits name these files' origin:
    #                    the licence stated for them (a name in ALLOWED)
    author: str = ""  # ... and their author or copyright holder
    labels: tuple[tuple[str, str], ...] = ()  # (regex searched in the file's stem, or in its path when it has a "/",
    #                                           label; "" leaves the file out) for cryptic names
    words: tuple[tuple[str, str], ...] = ()  # (word, replacement) applied to labels made from file names
    prefix: str = ""  # a word put before labels made from file names (a kind the name leaves out: "bird")
    ucs: tuple[str, ...] = ()  # UCS categories its sounds belong to: a label's CatID is looked for there first
    catids: tuple[tuple[str, str], ...] = ()  # (regex searched in the label, CatID) where the word match is wrong
    source: tuple[str, str] = ("", "")  # (installed prefix, source-tree prefix) where Debian moved the files


_GAME = "usr/share/games"
# desktop sound themes (freedesktop, Yaru, Oxygen): what each event's sound is, by its file name
_DESKTOP_LABELS: tuple[tuple[str, str], ...] = (
    ("^bell$", "bell notification"), ("^complete$", "task complete chime"),
    ("^message-new-instant$", "instant message notification"), ("^message-new-email$", "email notification"),
    ("^phone-incoming-call$", "phone ringing incoming call"), ("^phone-outgoing-busy$", "phone busy signal"),
    ("^phone-outgoing-calling$", "phone ringback tone"), ("^trash-empty$", "trash empty crumple"),
    ("^audio-volume-change$", "volume change blip"), ("^battery-low$", "battery low alert"),
    ("^desktop-login$", "login chime"), ("^desktop-logoff$", "logout chime"), ("^device-added$", "device connected chime"),
    ("^device-removed$", "device disconnected chime"), ("^dialog-error$", "error alert"),
    ("^dialog-question$", "question alert"), ("^dialog-warning$", "warning alert"),
    ("^Oxygen-K3B-Finish-Error$", "task failed alert"), ("^Oxygen-K3B-Finish-Success$", "task complete chime"),
    ("^Oxygen-K3B-Insert-Medium$", "insert disc alert"), ("^Oxygen-Im-Cant-Connect$", "connection failed alert"),
    ("^Oxygen-Im-Connection-Lost$", "connection lost alert"), ("^Oxygen-Im-Contact-In$", "contact online chime"),
    ("^Oxygen-Im-Contact-Out$", "contact offline chime"), ("^Oxygen-Im-Error-On-Connection$", "connection error alert"),
    ("^Oxygen-Im-Highlight-Msg$", "message highlight notification"), ("^Oxygen-Im-Internal-Error$", "error alert"),
    ("^Oxygen-Im-Irc-Event$", "chat event notification"), ("^Oxygen-Im-Low-Priority-Message$", "low priority notification"),
    ("^Oxygen-Im-New-Mail$", "email notification"), ("^Oxygen-Im-Nudge$", "nudge notification"),
    ("^Oxygen-Im-Message-Out$", "message sent notification"), ("^Oxygen-Im-Phone-Ring$", "phone ring"),
    ("^Oxygen-Im-Sms$", "text message notification"), ("^Oxygen-Im-User-Auth$", "authentication alert"),
    ("^Oxygen-Sys-App-Error-Critical$", "critical error alert"), ("^Oxygen-Sys-App-Error-Serious-Very$", "very serious error alert"),
    ("^Oxygen-Sys-App-Error-Serious$", "serious error alert"), ("^Oxygen-Sys-App-Error$", "error alert"),
    ("^Oxygen-Sys-App-Message$", "message notification"), ("^Oxygen-Sys-App-Negative$", "negative feedback alert"),
    ("^Oxygen-Sys-App-Positive$", "positive feedback chime"), ("^Oxygen-Sys-Error-Printing$", "printing error alert"),
    ("^Oxygen-Sys-List-End$", "list end blip"), ("^Oxygen-Sys-List-Match-Multiple$", "search multiple matches blip"),
    ("^Oxygen-Sys-List-Match-No$", "search no match blip"), ("^Oxygen-Sys-Log-In", "login chime"),
    ("^Oxygen-Sys-Log-Out", "logout chime"), ("^Oxygen-Sys-Question$", "question alert"),
    ("^Oxygen-Sys-Special$", "special notification"), ("^Oxygen-Sys-Trash-Emptied$", "trash empty crumple"),
    ("^Oxygen-Sys-Warning$", "warning alert"), ("^Oxygen-Window-All-Desktops-Not$", "window unpin swoosh"),
    ("^Oxygen-Window-All-Desktops$", "window pin swoosh"), ("^Oxygen-Window-Close$", "window close swoosh"),
    ("^Oxygen-Window-Maximize$", "window maximize swoosh"), ("^Oxygen-Window-Minimize$", "window minimize swoosh"),
    ("^Oxygen-Window-Move-Stop$", "window move stop"), ("^Oxygen-Window-Move$", "window move swoosh"),
    ("^Oxygen-Window-Shade-Down$", "window shade down swoosh"), ("^Oxygen-Window-Shade-Up$", "window shade up swoosh"),
    (".", ""),  # any other event sound: not taken until its label is checked
)
_DESKTOP_CATIDS: tuple[tuple[str, str], ...] = (
    ("^window", "UIMvmt"), ("^(phone ring|phone ringing)", "COMTelph"), ("^phone", "COMTelph"),
    ("trash empty", "UIMisc"), ("blip", "UIBeep"), (".", "UIAlert"),
)
PACKAGES: tuple[Package, ...] = (
    Package("wesnoth-1.16-data", "1:1.16.9-1", (f"{_GAME}/wesnoth/1.16/data/core/sounds/*",), ucs=("WEAPONS", "CREATURES", "VOICES", "MAGIC", "ANIMALS", "AMBIENCE", "FIGHT", "SWOOSHES", "FIRE", "BIRDS", "HORNS", "DESTRUCTION", "LIQUID & MUD", "GORE", "GUNS", "ROCKS"),
            exclude=r"/(ambient/wardrums|fanfare)|gold\.|petrified|slowed|poison|heal\.|potion",
            licence="GPL-2.0-or-later", author="The Battle for Wesnoth project (David White and contributors)",
            catids=(("gunshot|musket|flintlock", "GUNAntq"),),
            labels=(("^horn-\\d$", "war horn signal"), ("^miss-\\d$", "sword swing whoosh"), ("^ugg$", "ogre grunt"),
                    ("^thunderstick$", "musket shot"), ("^thunderstick-miss$", "musket shot miss"),
                    ("^dragonstick", "flintlock gun shot"), ("^wose-attack$", "tree creature attack groan"),
                    ("^wose-die$", "tree creature death groan"), ("^wose-hit$", "tree creature pain groan"),
                    ("^wose-miss$", "tree creature swing whoosh"), ("^tail$", "tail whip swish"),
                    ("^ink", "squid ink splash"), ("^wail", "ghost wail"), ("^mud-glob", "mud glob splat"),
                    ("^mud-fist$", "mud punch splat"), ("^mud-fist-miss$", "mud punch whoosh"),
                    ("^net$", "rope net throw"), ("^entangle$", "vines entangle rustle"), ("^morning$", "morning birds ambience"),
                    ("^night$", "night crickets ambience"), ("^ship$", "ship creak waves ambience"),
                    ("^birds\\d$", "birds chirping"), ("^campfire$", "campfire crackle"), ("^fuse$", "fuse burning"),
                    ("^cave-in$", "cave in rocks collapse"), ("^rumble$", "earthquake rumble"),
                    ("^open-chest$", "chest open creak"), ("^claws$", "claws slash"), ("^pincers$", "crab pincers snap"),
                    ("^torch$", "torch fire swing"), ("^torch-miss$", "torch whoosh"),
                    ("^melee-fire$", "fire burst"), ("^fire$", "fire burst whoosh"), ("^flame-big$", "big fire burst"),
                    ("^flame-big-miss$", "big fire whoosh"), ("^hiss", "snake hiss"), ("^squishy", "squishy slime hit"),
                    ("^zombie-attack$", "zombie groan attack"), ("^human-female-die", "woman death cry"),
                    ("^human-female-hit", "woman pain grunt"), ("^human-old-die", "old man death cry"),
                    ("^human-old-hit", "old man pain grunt"), ("^human-die", "man death cry"),
                    ("^human-hit", "man pain grunt"), ("^axe$", "axe hit"), ("^club$", "club hit"),
                    ("^mace$", "mace hit"), ("^flail$", "flail hit"), ("^hatchet$", "hatchet hit"),
                    ("^sword-\\d$", "sword clash"), ("^spear$", "spear stab"), ("^staff$", "staff hit"),
                    ("^knife$", "knife slash"), ("^fist$", "punch hit"), ("^bite$", "creature bite"),
                    ("^bite-small$", "small creature bite"), ("^throw-\\d$", "throw whoosh"), ("^sling$", "sling throw"),
                    ("^sling-big$", "big sling throw"), ("^dart$", "dart throw"), ("^bow$", "bow arrow shot"),
                    ("^bow-puny$", "small bow arrow shot"), ("^bow-puny-fire$", "fire arrow shot"),
                    ("^bow-puny-fire-miss$", "fire arrow whoosh"), ("^bow-puny-miss$", "small bow arrow whoosh"),
                    ("^crossbow$", "crossbow shot"), ("^crossbow-fire$", "fire crossbow bolt shot"),
                    ("^crossbow-fire-miss$", "fire crossbow bolt whoosh"), ("^crossbow-miss$", "crossbow bolt whoosh"),
                    ("^magicmissile$", "magic missile"), ("^water-blast$", "water magic blast"),
                    ("^lightning$", "lightning strike"), ("^lightning-miss$", "lightning whoosh"),
                    ("^horse-elf-canter$", "elvish horse canter"), ("^tusker-charge$", "boar charge")),
            words=(("die", "death"), ("hit", "pain grunt"), ("miss", "whoosh"), ("bow", "bow arrow"), ("puny", "small"),
                   ("sml", "small"), ("naga", "snake creature"), ("mermen", "merman"), ("drake", "dragon"),
                   ("tusker", "boar"), ("faeriefire", "fairy"), ("flame", "fire"))),
    Package("openarena-data", "0.8.5split-14",
            (f"{_GAME}/openarena/baseoa/pak0.pk3/sound/*", f"{_GAME}/openarena/missionpack/mp-pak0.pk3/sound/*"), ucs=("GUNS", "BULLETS", "EXPLOSIONS", "SCIFI", "FOOTSTEPS", "VOICES", "HUMAN", "GORE", "WATER", "DESIGNED", "ELECTRICITY", "FIRE", "DOORS", "MACHINES", "WIND", "AMBIENCE", "CREATURES"),
            exclude=r"/voices/|/player/announcer|talk\.wav|taunt|/misc/menu|_pkup|respawn|wearoff|holdable|"
                    r"use_nothing|/cl_|doubler|guard\.wav|scout\.wav|nightmare|quaddamage|haste|regen",
            labels=(("^airout$", "air hiss out"), ("^damage\\d$", "power up hum"), ("^flight$", "jetpack flight hum"),
                    ("^invisibility$", "invisibility shimmer"), ("^kamikaze", "kamikaze explosion"),
                    ("^kam_explode_far$", "distant explosion"), ("^kam_explode$", "kamikaze explosion"), ("^kam_implode$", "implosion"),
                    ("^[lmns]_health$", "health pickup chime"), ("^protect\\d?$", "force shield hum"),
                    ("^telein$", "teleport in"), ("^teleout$", "teleport out"), ("^use_medkit$", "medkit use"),
                    ("^dr1_end$", "sliding door stop"), ("^dr1_strt$", "sliding door open"),
                    ("^pt1_end$", "elevator platform stop"), ("^pt1_strt$", "elevator platform start"),
                    ("^butn2$", "button press"), ("^bfg_fire$", "plasma cannon blast"), ("^bfg_hum$", "energy weapon hum"),
                    ("^change$", "weapon switch"), ("^grenlf1a$", "grenade launcher shot"),
                    ("^hgrenb\\da$", "grenade bounce"), ("^lg_fire$", "lightning gun zap"),
                    ("^lg_hit\\d?$", "electric zap hit"), ("^lg_hum$", "electric hum"), ("^buletby1$", "bullet whiz by"),
                    ("^machgf\\db$", "machine gun shot"), ("^ric\\d$", "bullet ricochet"), ("^fstatck$", "punch hit"),
                    ("^fsthum$", "gauntlet buzz hum"), ("^fstrun$", "gauntlet motor whir"), ("^noammo$", "gun empty click"),
                    ("^hyprbf1a$", "plasma gun shot"), ("^lasfly$", "laser fly by"), ("^plasmx1a$", "plasma impact"),
                    ("^wstbexpl$", "mine explosion"), ("^railgf1a$", "railgun shot"), ("^rg_hum$", "railgun hum"),
                    ("^rockfly$", "rocket fly by"), ("^rocklf1a$", "rocket launch"), ("^rocklx1a$", "rocket explosion"),
                    ("^sshotf1b$", "shotgun blast"), ("^vulcanf\\db$", "gatling gun shot"), ("^wvulfire$", "minigun fire"),
                    ("^wvulwind$", "minigun spin up"), ("^weapon_hover$", "energy hover hum"),
                    ("^1shot_greg", "metal impact clang"), ("^ambience03$", "dark ambience drone"),
                    ("^x_ancientsdrone$", "ancient drone ambience"), ("^x_drowning$", "underwater drone"),
                    ("^x_forbidden$", "eerie drone ambience"), ("^x_ominous$", "ominous drone"),
                    ("^x_rumbledrone$", "rumble drone"), ("^cf_blubber", "water bubbles blubber"),
                    ("^cf_distant", "distant rumble ambience"), ("^clack$", "metal clack"),
                    ("^curnt2$", "electric current hum"), ("^demonwind", "howling wind"), ("^drone6$", "machine drone"),
                    ("^drops$", "water drips"), ("^electro$", "electric crackle"), ("^fan4?$", "fan hum"),
                    ("^fire\\d$", "fire burning"), ("^firesoft$", "soft fire crackle"), ("^growl\\d$", "monster growl"),
                    ("^jumppad$", "jump pad launch"), ("^lava_amb", "lava bubbling"), ("^machinerydrone", "machinery hum"),
                    ("^monitor_02$", "computer monitor beeps"), ("^neonhum$", "neon light hum"),
                    ("^moan\\d$", "ghostly moan"), ("^painwind", "howling wind moan"), ("^portal0\\d$", "portal hum"),
                    ("^suck1$", "air suction whoosh"), ("^tim_drone1$", "industrial drone"), ("^tim_machine$", "machine loop"),
                    ("^tim_pump$", "pump machine"), ("^waterfall$", "waterfall"), ("^wind\\d$", "wind"),
                    ("^fry$", "lava burn sizzle"), ("^gibimp\\d$", "gore flesh impact"), ("^gibsplt1$", "gore splatter"),
                    ("^gurp\\d$", "man drowning gurgle"), ("^land1$", "body land thud"), ("^watr_in$", "water splash in"),
                    ("^watr_out$", "water splash out"), ("^watr_un$", "underwater submerge"),
                    ("^boot\\d$", "footstep boot"), ("^clank\\d$", "footstep metal clank"),
                    ("^energy\\d$", "footstep energy"), ("^flesh\\d$", "footstep flesh squish"),
                    ("^mech\\d$", "footstep mech robot"), ("^splash\\d$", "footstep water splash"),
                    ("^step\\d$", "footstep concrete"), ("^death\\d$", "man death scream"), ("^drown$", "man drowning"),
                    ("^fall1$", "man fall grunt"), ("^falling1$", "man falling scream"), ("^gasp$", "man gasp breath"),
                    ("^jump1$", "man jump grunt"), ("^pain\\d+_1$", "man pain grunt"), ("^ammoregen$", "ammo regenerate"),
                    ("^obelisk_hit", "crystal obelisk hit"), ("^wnalfire$", "nail gun shot"),
                    ("^wnalimp", "nail impact"), ("^wstbactv$", "mine activate beep"), ("^wstbfire$", "mine launcher shot"),
                    ("^wstbimp", "mine stick impact"), ("^wstbtick$", "mine tick"), ("^electro$", "electric crackle")),
            ),
    Package("warzone2100-data", "4.3.3-3", (f"{_GAME}/warzone2100/base.wz/audio/sfx/*",
                                            f"{_GAME}/warzone2100/base.wz/audio/radclick/*"), ucs=("GUNS", "EXPLOSIONS", "VEHICLES", "AIRCRAFT", "MACHINES", "LASERS", "BULLETS", "VOICES", "FIRE", "BEEPS", "COMMUNICATIONS", "TOOLS", "DESTRUCTION", "WATER", "ROBOTS"),
            exclude=r"/misc/help|gmeshtdn",
            labels=(("^oilpump$", "oil pump machine"), ("^freroar$", "furnace roar"), ("^powerspk$", "power sparks"),
                    ("^steam$", "steam hiss"), ("^powerhum$", "power generator hum"), ("^ecmtower$", "electronic jammer hum"),
                    ("^rocket$", "rocket launch"), ("^mgbar\\d$", "machine gun burst"), ("^lrgcan$", "large cannon shot"),
                    ("^bemlsr$", "laser beam"), ("^weld-\\d$", "welding torch"), ("^mgtower$", "machine gun tower fire"),
                    ("^gaussgun$", "gauss gun shot"), ("^medcan$", "medium cannon shot"), ("^mgheavy$", "heavy machine gun"),
                    ("^flmthrow$", "flamethrower"), ("^rapdcan$", "rapid cannon fire"), ("^build\\d$", "construction work"),
                    ("^hivelcan$", "high velocity cannon"), ("^nxstower$", "energy tower zap"),
                    ("^smlcan$", "small cannon shot"), ("^rotlsr$", "pulse laser"), ("^plslsr$", "plasma laser"),
                    ("^bldstart$", "construction work start"), ("^bldloop$", "construction machinery"),
                    ("^splash$", "water splash"), ("^hwtzflgt$", "howitzer shell flight"),
                    ("^asltmg$", "assault machine gun"), ("^mortar$", "mortar shot"), ("^tflight$", "vtol aircraft flight"),
                    ("^hovstart$", "hover vehicle start"), ("^thover$", "hover vehicle hum"),
                    ("^con-move-off$", "construction vehicle stop"), ("^cyber-move$", "cyborg robot walk"),
                    ("^con-move$", "construction vehicle move"), ("^vtol-move$", "vtol jet engine"),
                    ("^hovmove$", "hover vehicle move"), ("^vtolland$", "vtol aircraft landing"),
                    ("^tstart$", "tank engine start"), ("^tread$", "tank treads"), ("^vtoloff$", "vtol aircraft takeoff"),
                    ("^hovstop$", "hover vehicle stop"), ("^tland$", "transport aircraft landing"),
                    ("^con-shut-down$", "construction vehicle engine shut down"), ("^scream\\d?$", "man scream"),
                    ("^richet\\d$", "bullet ricochet"), ("^mpodexpl$", "mini pod explosion"),
                    ("^lsrexpl$", "laser explosion"), ("^nxsexpld$", "energy explosion"), ("^smlexpl$", "small explosion"),
                    ("^squish$", "squish splat"), ("^bldfall$", "building collapse"), ("^lrgexpl$", "large explosion"),
                    ("^atnkexpl$", "anti tank explosion"), ("^beep\\d$", "computer beep"), ("^radclik\\d$", "radio click"))),
    Package("warmux-data", "1:11.04.1+repack2-4", (f"{_GAME}/warmux/sound/default/*",), ucs=("EXPLOSIONS", "GUNS", "WEAPONS", "CARTOON", "VOICES", "FIRE", "BULLETS", "AIRCRAFT", "FIGHT", "ROPE"),
            exclude=r"/voices/(theme|friendly_fire|suicide|out|happy|fire\d)|/misc/(sherif|victory|newcomer|"
                    r"skip_turn|start_turn|end_turn|ok|character_change|weapon_show|clic|error)|disco_grenade|"
                    r"homerun|lowgravity|suicide|polecat|supertux|airhammer_selected|/misc/cancel",
            licence="GPL-2.0-or-later", author="The WarMUX team and contributors (see its data/authors.xml)",
            labels=(("^injured_", "cartoon character pain grunt"), ("^death\\d$", "cartoon character death cry"),
                    ("^jump$", "cartoon jump grunt"), ("^backjump$", "cartoon back flip grunt"),
                    ("^superjump$", "cartoon super jump yell"), ("^ricoche\\d$", "bullet ricochet"),
                    ("^embers\\d$", "embers fire crackle"), ("^m16$", "rifle burst"), ("^gnu_bounce$", "cartoon bounce"),
                    ("^load$", "weapon load click"), ("^construct$", "construction hammering"), ("^grapple_", "grappling rope "),
                    ("^slap$", "face slap"), ("^syringe$", "syringe injection"), ("^cluzooka_shot$", "bazooka shot"),
                    ("^cluzooka_hit$", "bazooka explosion"), ("^airhammer_used$", "jackhammer drilling"),
                    ("^anvil_collision$", "anvil clang"), ("^anvil_fall$", "anvil falling whistle"),
                    ("^aircraft_bomb_falling$", "bomb falling whistle"), ("^aircraft_flying$", "bomber plane fly by"),
                    ("^baseball$", "baseball bat hit"), ("^box_falling$", "wooden crate falling"),
                    ("^box_hitting_ground$", "wooden crate landing thud"), ("^box_picking_up$", "crate pickup"),
                    ("^m16_cartridge$", "bullet shell casing drop"), ("^change_weapon$", "weapon switch"),
                    ("^countdown-endturn$", "countdown timer beep"), ("^gun$", "pistol shot"),
                    ("^jetpack$", "jetpack thrust"), ("^riot_flying$", "projectile flying whoosh"),
                    ("^shotgun$", "shotgun blast"), ("^sink$", "sinking in water bubbles"), ("^step$", "footstep"),
                    ("^weapon_hide$", "weapon holster"), ("^footbomb_bounce$", "bomb bounce"), ("^flame$", "flame burst"),
                    ("^teleport_start$", "teleport start"), ("^teleport_land$", "teleport arrive")),
            words=(("exp", "explosion"), ("fuze", "fuse")),
            catids=(("grappling rope cable", "ROPEMvmt"), ("grappling rope", "ROPEHndl"), ("baseball", "SPRTField"))),
    Package("supertux-data", "0.6.3-2", (f"{_GAME}/supertux2/sounds/*",), ucs=("CARTOON", "CREATURES", "ICE", "WATER", "FIRE", "OBJECTS", "FOOTSTEPS", "WOOD", "WEATHER"),
            exclude=r"welldone|excellent|lifeup|upgrade|coins_cleared|tada|invincible|savebell|retro_fall|kill\.|"
                    r"grow\.|warp|flip|fire-flower",
            labels=(("^mr_tree", "tree creature groan"), ("^yeti_gna$", "yeti growl"), ("^willowisp$", "ghost wisp whisper"),
                    ("^willocatch$", "ghost wisp catch"), ("^pshit$", "steam puff"), ("^flop$", "body flop"),
                    ("^hop$", "cartoon hop"), ("^totem$", "wooden totem knock"), ("^brick$", "brick break"),
                    ("^empty$", "hollow block bump"), ("^crystallo-", "crystal shatter"), ("^darthit$", "dart hit"),
                    ("^dartfire$", "dart blow"), ("^tree_suck$", "tree suck whoosh"), ("^tree_howling$", "howling wind trees"),
                    ("^grunts$", "creature grunts"), ("^turnkey$", "key turn lock"), ("^iceblock_bump$", "ice block bump"),
                    ("^icecrash$", "ice crash shatter"), ("^cracking$", "ice cracking"), ("^yeti_finish$", "yeti death roar"),
                    ("^hurt$", "cartoon hurt yelp"), ("^shoot$", "fireball shoot"), ("^locked$", "door locked rattle"),
                    ("^phone$", "phone ring"), ("^lava$", "lava bubbling"), ("^fizz$", "fizz sizzle"),
                    ("^gulp$", "gulp swallow"), ("^stomp$", "stomp"), ("^squish$", "squish"), ("^saw$", "saw cutting"),
                    ("^door$", "door open"), ("^fire$", "fire whoosh"), ("^rain$", "rain"), ("^thud$", "heavy thud"),
                    ("^switch$", "switch click"), ("^ticking$", "clock ticking"), ("^pop$", "cartoon pop"),
                    ("^wood$", "wood hit"), ("^kick$", "kick hit"), ("^jump$", "cartoon jump"),
                    ("^bigjump$", "cartoon big jump"), ("^skid$", "ice skid slide"), ("^trampoline$", "trampoline boing"),
                    ("^fall$", "cartoon fall whistle"), ("^coin2?$", "coin collect chime"))),
    Package("supertuxkart-data", "1.4+dfsg-2", (f"{_GAME}/supertuxkart/data/sfx/*", f"{_GAME}/supertuxkart/data/tracks/*",
                                                 f"{_GAME}/supertuxkart/data/library/*", f"{_GAME}/supertuxkart/data/karts/*"),
            exclude=r"race_finish|start_race|fanfare|track_intro|gp_end|goal_scored|energy_bar|grab_collectable|"
                    r"nolok_speech|intro2|Battle_Theme|Gran_Paradiso|beneath_the_rabbit|hot\.ogg|appear|swap|nitro|"
                    r"gnu_flute|sara_airport",
            labels=(("^dark$", "dark drone"), ("^goo$", "goo splat"), ("^boing$", "boing spring"),
                    ("^plunger$", "plunger pop"), ("^bzzt2?$", "electric buzz"), ("^ugh$", "man grunt ugh"),
                    ("^wee$", "man cheer wee"), ("^plopp$", "plop"), ("^WilhelmScream$", "man scream falling"),
                    ("^forcefield$", "force field hum"), ("^static-radio$", "radio static"),
                    ("^lenautile_restaurant$", "restaurant crowd ambience"), ("^break$", "glass break"),
                    ("^strike$", "bowling strike"), ("^swatter$", "fly swatter swat"), ("^portal$", "portal whoosh"),
                    ("^locked$", "door locked"), ("^shoot$", "cannon shoot"), ("^jump$", "boing jump"),
                    ("^button$", "button click"), ("^hot$", "sizzle"), ("^inflate$", "balloon inflate"),
                    ("^machine_sound$", "machine hum"), ("^clock$", "clock ticking"), ("^crash\\d?$", "car crash"),
                    ("^bowling_roll$", "bowling ball roll"), ("^bowling_shoot$", "bowling ball throw"),
                    ("^car_accel$", "car accelerate"), ("^car_revup$", "car engine rev up"),
                    ("^bubblegum_explode$", "bubblegum pop"), ("^engine_small$", "small engine"),
                    ("^hammer$", "hammer hit"), ("^horn$", "car horn"), ("^river", "river flowing"),
                    ("^sheep$", "sheep bleat"), ("^skid$", "tire skid"), ("^wooden_bridge$", "wooden bridge rattle"),
                    ("^parachute$", "parachute open"), ("^metal_clang$", "metal clang")),
            catids=(("bowling", "SPRTIndor"), ("glass break", "GLASBrk"), ("car crash", "DESTRCrsh"),
                    ("ball bounce", "SPRTCourt"))),
    Package("lincity-ng-data", "2.9~git20150314-5", (f"{_GAME}/lincity-ng/sounds/*",), ucs=("AMBIENCE", "CROWDS", "MACHINES", "VEHICLES", "TRAINS", "ANIMALS", "BIRDS", "FIRE", "TOOLS", "DESTRUCTION", "WATER", "ALARMS"),
            exclude=r"Click|Window(Open|Close)|University|School|Health|Monument\d|Commune|Recycle|Tip\d|Shanty|"
                    r"Substation\d|Market(Low|Med|Full)|PowerCoal(Low|Med|Full)|PowerLine|Green\d",
            labels=(("^MarketEmpty", "market crowd ambience"), ("^IndustryHigh", "heavy industry machinery"),
                    ("^IndustryLight", "light industry machines"), ("^Rocket\\d$", "rocket engine roar"),
                    ("^RocketTakeoff", "rocket takeoff"), ("^RocketExplosion", "rocket explosion"),
                    ("^Farm\\d$", "farm animals"), ("^OrganicFarm", "farm tractor"), ("^Blacksmith", "blacksmith hammer anvil"),
                    ("^WindMill\\d$", "windmill creak"), ("^WindMillHTech", "wind turbine whoosh"),
                    ("^TraficHigh", "heavy traffic"), ("^TraficLow", "light traffic cars"), ("^FireStation", "fire station siren"),
                    ("^ResidentialLowLow", "quiet residential street"), ("^Residential(Low|Med)", "residential street ambience"),
                    ("^ResidentialHigh", "busy city street"), ("^DirtTrack", "horse cart on dirt track"),
                    ("^Raze", "building demolition"), ("^OreMine", "ore mine machinery"), ("^CoalMine", "coal mine digging"),
                    ("^Mill\\d$", "flour mill grinding"), ("^MonumentConstruction", "construction hammering"),
                    ("^RailTrain", "train passing by"), ("^ParklandLake", "lake ducks ambience"), ("^ParklandPlane", "park birds ambience"),
                    ("^Fire\\d$", "fire burning"), ("^FireWasteland", "wasteland fire burning wind"), ("^PowerSolar", "solar power plant electric hum"),
                    ("^Water\\d$", "water pump"), ("^Build\\d$", "construction hammering"), ("^Harbor", "harbor seagulls ambience"),
                    ("^Pottery", "pottery wheel"), ("^SportsCroud", "stadium crowd cheer"),
                    ("^SubstationO(n|ff)$", "electric power switch"), ("^PowerCoalEmpty$", "power plant hum"))),
    Package("flightgear-data-base", "1:2020.3.16+dfsg-1", ("usr/share/games/flightgear/Sounds/*",
                                                          "usr/share/games/flightgear/Aircraft/c172p/Sounds/*"), ucs=("AIRCRAFT", "WEATHER", "RAIN", "WIND", "MECHANICAL", "VEHICLES", "WATER", "GUNS", "ALARMS"),
            exclude=r"avionics|gear-hrn|overspeed|stall|wind-8khz|checklist|intro|beep|whine|gps_to|repair|damage",
            labels=(("^R-1535Slow$", "radial aircraft engine"), ("^p51d_", "propeller aircraft engine"),
                    ("^rattleroll$", "wheels rolling rattle"), ("^cranking$", "engine cranking"),
                    ("^engstart$", "jet engine start"), ("^wasp$", "radial aircraft engine"), ("^rotor", "helicopter rotor"),
                    ("^blade_vortex$", "helicopter blade"), ("^coughing$", "engine coughing"),
                    ("^rumble(-rough)?$", "runway rumble"), ("^wave$", "water wave"), ("^gatling$", "gatling gun"),
                    ("^gyro$", "gyroscope whir"), ("^primer-(in|out)$", "engine primer pump"), ("^trim$", "trim wheel click"),
                    ("^rudder-trim$", "trim wheel click"), ("^scroll$", "knob scroll click"), ("^keys2?$", "keys jingle"),
                    ("^lever$", "lever pull"), ("^control_lock$", "control lock clunk"), ("^scratch$", "aircraft scrape"),
                    ("^gear(-lck)?$", "landing gear motor"), ("^squeal2?$", "tire squeal"), ("^flaps", "flaps motor"),
                    ("^radionoise$", "radio noise static"), ("^prop$", "propeller aircraft engine"), ("^jet$", "jet engine"),
                    ("^fan$", "jet engine fan"), ("^turbojet_fan$", "turbojet fan"), ("^exhaust_", "jet exhaust"),
                    ("^water-(still|fast)$", "water lapping"), ("^water-rudder", "water rudder splash"),
                    ("^crash$", "aircraft crash"), ("^click\\d?$", "switch click"), ("^double-click\\d?$", "switch double click"),
                    ("^vario", "variometer beep tone"), ("^flarm", "flarm warning beep"),
                    ("^glove_compartment_opening$", "glove compartment open"),
                    ("^glove_compartment_closing$", "glove compartment close"), ("^engine$", "aircraft engine"),
                    ("^engine-(crank|idle|start|cut)$", "aircraft engine \\1"), ("^starter_loop$", "engine starter motor"),
                    ("^starter_(start|stop)$", "engine starter motor \\1"), ("^turbine_loop$", "turbine engine"),
                    ("^turbine_(start|shutdown)$", "turbine engine \\1"), ("^tires-screech-gravel-oneshot$", "tires screech gravel"),
                    ("^door[-_]clos", "aircraft door close"), ("^door-opening$", "aircraft door open"),
                    ("^window-opening$", "aircraft window open"), ("^window-closing$", "aircraft window close"), ("^flaps", "flaps motor"), ("^turboprop", "turboprop engine")),
            ),
    Package("scorched3d-data", "44+dfsg-8", (f"{_GAME}/scorched3d/data/globalmods/none/data/wav/*",), ucs=("EXPLOSIONS", "GUNS", "VEHICLES", "AIRCRAFT", "BIRDS", "ANIMALS", "WEATHER", "RAIN", "WATER", "LASERS", "SCIFI", "GEOTHERMAL"),
            labels=(("^gloop$", "gloop goo"), ("^para$", "parachute open"), ("^t38$", "jet fly by"),
                    ("^f1[68]_\\d$", "fighter jet fly by"), ("^apache_1$", "helicopter"), ("^elevate$", "turret elevate motor"),
                    ("^power$", "power charge up"), ("^turn$", "turret turn motor"), ("^tankmove$", "tank treads"),
                    ("^movement$", "tank movement"), ("^play$", "interface click"), ("^text$", "text blip"),
                    ("^activmag$", "magnetic shield activate"), ("^activateforce$", "force shield activate"),
                    ("^activate\\d?$", "shield activate"), ("^battery$", "battery charge"), ("^tracer$", "tracer shot"),
                    ("^flare$", "flare launch"), ("^launch$", "missile launch"), ("^laserdeath$", "laser death"),
                    ("^camera$", "camera whir"), ("^bats\\d$", "bats squeaks"), ("^frogs$", "frogs croaking"),
                    ("^gull\\d$", "seagull"), ("^birdchirp\\d$", "bird chirp"), ("^crunch$", "explosion crunch"),
                    ("^tank$", "tank explosion"), ("^napalm$", "napalm fire explosion"), ("^hit2?$", "shield hit zap"),
                    ("/shoot/(small|medium|large)\\.", "\\1 tank cannon shot"), ("/shoot/xlarge\\.", "huge tank cannon shot"),
                    ("^small$", "small explosion"), ("^medium$", "medium explosion"), ("^large$", "large explosion"),
                    ("^xlarge$", "huge explosion"), ("^oceanwaves$", "ocean waves"), ("^lava\\d$", "lava bubbling"),
                    ("^wolf$", "wolf howl"), ("^jet$", "jet fly by"), ("^rocket$", "rocket launch"),
                    ("^laser\\d?$", "laser shot"), ("^teleport$", "teleport"), ("^beep\\d?$", "beep"),
                    ("^birds\\d$", "birds chirping"), ("^battery$", "battery charge up"), ("^gloop$", "goo splat"))),
    Package("endless-sky-data", "0.9.8-1.2", (f"{_GAME}/endless-sky/sounds/*",), ucs=("EXPLOSIONS", "LASERS", "SCIFI", "GUNS", "WEAPONS", "AIRCRAFT", "ELECTRICITY", "ALARMS", "BEEPS", "COMPUTERS", "METAL"),
            exclude=r"/ambient/|fail\.", catids=(("explosion", "EXPLDsgn"),),  # space weapons' designed blasts
            labels=(("^warder$", "energy turret"), ("^detainer$", "tractor beam"), ("^finisher$", "missile launch"),
                    ("^piercer$", "missile launch"), ("^javelin$", "missile launch"), ("^typhoon$", "torpedo launch"),
                    ("^thunderhead$", "missile launch"), ("^sidewinder$", "missile launch"), ("^tracker$", "missile launch"),
                    ("^minelayer$", "mine launch"), ("^repeater$", "laser repeater"), ("^sunbeam", "laser beam"),
                    ("^skylance", "laser beam"), ("^slicer", "laser beam"), ("^banisher", "energy beam"),
                    ("^disruptor", "energy beam"), ("^zapper", "electric zapper"), ("^scan", "scanner beep"),
                    ("^heliarch (attractor|repulsor)", "tractor beam hum"), ("^grab-strike$", "grapple strike"),
                    ("^crunch$", "metal crunch"), ("^pulse$", "pulse laser"), ("^proton$", "proton gun"),
                    ("^particle$", "particle cannon"), ("^alarm$", "alarm klaxon"), ("^bombardment$", "bombardment explosions"),
                    ("^meteor$", "meteor impact"), ("^(atomic|ion|plasma) (huge|large|medium|small|tiny)$", "\\2 \\1 explosion"),
                    ("^explosion (huge|large|medium|small|tiny|nuke)$", "\\1 explosion"),
                    ("^final explosion (large|medium|small)$", "\\1 ship destruction explosion"),
                    ("^nuke$", "nuke explosion"), ("^hyperdrive$", "hyperdrive"), ("^hyperdrive (in|out)$", "hyperdrive jump \\1"),
                    ("^jump (in|out)$", "hyperspace jump \\1"), ("^jump drive$", "jump drive"), ("^landing$", "spaceship landing"),
                    ("^takeoff$", "spaceship takeoff"), ("^seeker$", "seeker missile launch"), ("^ion$", "ion cannon shot"),
                    ("^plasma$", "plasma gun shot"), ("^torpedo$", "torpedo launch"), ("^rocket$", "rocket launch"),
                    ("^laser$", "laser shot"), ("^heavy laser$", "heavy laser shot"), ("^blaster$", "blaster shot"),
                    ("^mod blaster$", "modified blaster shot"), ("^ion rain$", "ion rain bombardment"),
                    ("^(\\w+ )?anti-missile$", "anti missile turret"), ("^mine deploy$", "space mine deploy"),
                    ("^heavy rocket hit$", "heavy rocket explosion"), ("^ion impact$", "ion impact"),
                    ("^fire-lance$", "fire lance flame"), ("^afterburner$", "afterburner thrust"),
                    ("^ionic afterburner$", "ionic afterburner thrust"))),
    Package("naev-data", "0.8.2-1", ("usr/share/naev/dat/snd/sounds/*",), ucs=("EXPLOSIONS", "LASERS", "SCIFI", "GUNS", "WEAPONS", "AIRCRAFT", "ELECTRICITY", "ALARMS", "BEEPS", "COMPUTERS", "AIR"),
            exclude=r"target|nav\.|1-second|outfit-", catids=(("explosion", "EXPLDsgn"),),
            labels=(("^mass$", "mass driver shot"), ("^ion$", "ion cannon shot"), ("^neutron$", "neutron cannon shot"),
                    ("^ripper$", "ripper cannon shot"), ("^mace$", "mace rocket launch"), ("^seeker$", "seeker missile"),
                    ("^medexp\\d$", "medium explosion"), ("^lrgexp\\d$", "large explosion"), ("^empexplode$", "emp explosion"),
                    ("^bansheeexp$", "explosion"), ("^hail$", "radio hail beep"), ("^compression$", "air compression hiss"),
                    ("^afb_disengage$", "afterburner off"), ("^computer_jam$", "computer jamming"),
                    ("^computer_lock$", "computer lock on beep"), ("^jump$", "hyperspace jump"),
                    ("^beam_off\\d$", "laser beam off"), ("^beam\\d$", "laser beam"), ("^autocannon$", "autocannon fire"),
                    ("^engine$", "spaceship engine"), ("^grenade$", "grenade explosion"),
                    ("^grenadefire$", "grenade launcher shot"), ("^hyperspace_powerupjump$", "hyperspace power up jump"),
                    ("^hyperspace_power(up|down)$", "hyperspace power \\1"), ("^laser$", "laser shot"),
                    ("^missile$", "missile launch"), ("^afterburner$", "afterburner thrust"),
                    ("^seeker$", "seeker missile launch"), ("^explosion\\d$", "explosion"))),
    Package("freeciv-data", "3.0.6-1+deb12u1", ("usr/share/games/freeciv/stdsounds/*",), ucs=("GUNS", "EXPLOSIONS", "WATER", "VEHICLES", "BOATS", "DESTRUCTION", "FOOTSTEPS"),
            exclude=r"wakeup|illegal",
            labels=(("^SmlExpl$", "small explosion"), ("^LrgExpl$", "large explosion"), ("^MedCan$", "medium cannon shot"),
                    ("^LrgCan$", "large cannon shot"), ("^MgHeavy$", "heavy machine gun"), ("^MgBar\\d$", "machine gun burst"),
                    ("^metbrk$", "metal break"), ("^woodbrk$", "wood break"), ("^wall01$", "stone wall building"),
                    ("^inh2o$", "water splash"), ("^foot3$", "footsteps"), ("^Tread$", "tank treads"),
                    ("^THover$", "hover vehicle hum"))),
    Package("freecol", "1.0.0-1", ("usr/share/games/freecol/default/resources/sound/*",), ucs=("GUNS", "EXPLOSIONS", "WATER", "VEHICLES", "BOATS", "DESTRUCTION", "FOOTSTEPS", "TOOLS"),
            exclude=r"alert|mission|colony|illegal|sell",
            labels=(("^building$", "construction hammering"), ("^fountain$", "fountain water"), ("^sunk$", "ship sinking"),
                    ("^load$", "ship cargo loading"), ("^dragoon$", "cavalry musket attack"), ("^naval$", "naval cannon battle"),
                    ("^bombard$", "cannon bombard"), ("^artillery$", "artillery cannon"))),
    Package("tuxpaint-data", "1:0.9.28-sdl2-1", ("usr/share/tuxpaint/sounds/*",),
            exclude=r"youcannot|tuxok|areyousure|prompt|italic|harp|thin|thick|grow|shrink|mirror|flip|return|save",
            labels=(("^paint\\d$", "paint brush stroke"), ("^eraser\\d$", "eraser rub"), ("^line_start$", "line draw start"),
                    ("^line_end$", "line draw end"), ("^bleep$", "bleep"), ("^fill$", "paint bucket fill pour"),
                    ("^stamp$", "rubber stamp"), ("^giggle$", "child giggle laugh"), ("^scroll$", "interface scroll click"),
                    ("^click$", "interface click"), ("^bubble$", "bubble pop"), ("^typewriterbell$", "typewriter bell")),
            catids=(("^line draw", "UIMisc"), ("^bleep$", "UIBeep"))),
    # Tux Paint's magic-tool sounds: the copyright file gives GPL-2+ (Bill Kendrick) for every file, but the credits
    # of the same source (usr/share/doc/tuxpaint-data/AUTHORS.txt.gz) name each one's recording and licence; only
    # recordings of what the label says, under an allowed licence, are taken (the others are synthesised, GFDL or
    # CC BY-SA, unnamed, or a sound other than their tool's: "fold" is a ping pong game)
    Package("tuxpaint-plugins-default", "1:0.9.28-sdl2-1",
            tuple(f"usr/share/tuxpaint/sounds/magic/{name}.ogg" for name in ("calligraphy", "snowball", "snowflake")),
            licence="CC BY 3.0", author="Mike Koenig (soundbible.com), cropped for Tux Paint",
            labels=(("^calligraphy$", "paper tearing"),  # "Tearing Paper"
                    ("^snowball$", "snowball throw splat"),  # "Snow Ball Throw And Splat"
                    ("^snowflake$", "snow falling"))),  # "Snowing"
    Package("tuxpaint-plugins-default", "1:0.9.28-sdl2-1", ("usr/share/tuxpaint/sounds/magic/tornado_release.ogg",),
            licence="public domain",
            author="Calvin Productions for the U.S. Weather Bureau (film \"Tornado\", Prelinger Archives), edited for Tux Paint",
            labels=(("^tornado_release$", "tornado roar"),)),
    Package("sound-theme-freedesktop", "0.8-2", ("usr/share/sounds/freedesktop/stereo/*",), ucs=("USER INTERFACE", "BEEPS", "ALARMS", "COMMUNICATIONS", "COMPUTERS", "BELLS"),
            exclude=r"audio-channel|audio-test", labels=_DESKTOP_LABELS, catids=_DESKTOP_CATIDS),
    Package("yaru-theme-sound", "22.10.3-1", ("usr/share/sounds/Yaru/stereo/*",), ucs=("USER INTERFACE", "BEEPS", "ALARMS", "COMMUNICATIONS", "COMPUTERS", "BELLS"),
            labels=_DESKTOP_LABELS, catids=_DESKTOP_CATIDS),
    Package("oxygen-sounds", "4:5.27.5-2", ("usr/share/sounds/Oxygen-*",), ucs=("USER INTERFACE", "BEEPS", "ALARMS", "COMMUNICATIONS", "COMPUTERS", "BELLS"),
            exclude=r"File-Open-Foes", labels=_DESKTOP_LABELS, catids=_DESKTOP_CATIDS),
    Package("netpanzer-data", "0.8.7+ds-4.1", ("usr/share/games/netpanzer/sound/*",), ucs=("GUNS", "EXPLOSIONS", "VEHICLES", "BULLETS", "VOICES"),
            exclude=r"yessir|selected|target_|move_|attack\.|affirm|menu|unitsound|ohgod",
            labels=(("^battle_mg1$", "machine gun battle"), ("^battle_shell1$", "artillery shell battle"),
                    ("^hit_\\d+$", "shell impact hit"), ("^miss_\\d$", "shell miss whiz"), ("^expl_\\d$", "tank explosion"),
                    ("^(mu|ho|lt|hv|ht|mt)-fire$", "tank cannon fire"), ("^hevidle$", "heavy tank engine idle"),
                    ("^hevmov$", "heavy tank moving"), ("^hevstart$", "heavy tank engine start"),
                    ("^tankidle$", "tank engine idle"), ("^scream_\\d$", "man death scream"), ("^powerup$", "power up pickup"))),
    Package("caveexpress-data", "2.5.2-1", ("usr/share/games/caveexpress/sounds/*",), ucs=("CREATURES", "ANIMALS", "WATER", "ROCKS", "WOOD", "WINGS", "HUMAN", "VOICES", "GEOTHERMAL", "FOOD & DRINK"),
            exclude=r"music|tile-packagetarget|click",
            labels=(("^npc-mammut-attack-init$", "mammoth attack roar"), ("^npc-mammut-attack$", "mammoth attack"),
                    ("^npc-mammut-", "mammoth "), ("^npc-walking-attack-init$", "caveman attack yell"),
                    ("^npc-walking-attack$", "caveman attack grunt"), ("^npc-(walking|cave)-walk$", "caveman footsteps"),
                    ("^npc-cave-board$", "caveman climb aboard"), ("^npc-cave-drown$", "caveman drowning"),
                    ("^npc-cave-water-rescue", "caveman water rescue splash"), ("^npc-walking-dazed$", "caveman dazed groan"),
                    ("^npc-walking-", "caveman "), ("^npc-cave-", "caveman "),
                    ("^npc-blowing-", "creature blowing"), ("^npc-flying-", "pterodactyl flapping"),
                    ("^player-flying$", "wings flapping flight"), ("^player-land\\d$", "body land thud"),
                    ("^player-pain\\d$", "caveman pain grunt"), ("^crate-hit\\d$", "wooden crate hit"),
                    ("^stone-hit$", "stone hit"), ("^tile-geyser-active$", "geyser eruption steam"),
                    ("^tile-waterfall$", "waterfall"), ("^cave\\d$", "cave ambience drips"), ("^water-impact$", "water splash"),
                    ("^water-rising$", "water rising bubbling"), ("^water-leave$", "water splash out"),
                    ("^tree-dazed$", "tree shake rustle"), ("^fruit-spawn$", "fruit pop"), ("^fruit-eat$", "eating crunch")),
            catids=(("^mammoth walk", "FEETCrea"), ("^mammoth", "CREABeast"), ("^caveman board", "MOVEHmn"),
                    ("^caveman swimming", "WATRMvmt"))),
    Package("cavepacker-data", "2.5.2-1", ("usr/share/games/cavepacker/sounds/*",),
            exclude=r"music|click|target|deadlock", labels=(("^step$", "footstep"),), catids=(("footstep", "FEETHmn"),)),
    Package("boswars-data", "2.7+svn160110-5", ("usr/share/games/boswars/units/*", "usr/share/games/boswars/sounds/*"), ucs=("GUNS", "EXPLOSIONS", "VOICES", "VEHICLES", "MACHINES", "FIRE", "TOOLS", "FOOTSTEPS"),
            exclude=r"select|ready|underattack|attacked|completed|chatmessage|intro|campaigns",
            labels=(("^(engineer|medic|grenadier|assault|bazoo)_die$", "soldier death scream"),
                    ("^(engineer|medic)_(action|attack)$", "tool work"), ("^grenadier_attack$", "grenade throw"),
                    ("^bazoo_attack$", "bazooka fire"), ("^assault_attack$", "assault rifle fire"),
                    ("^(harvester)_(action|attack)$", "harvester machine"), ("^smolder_(action|attack)$", "flamethrower"),
                    ("^gturret_attack$", "gun turret fire"), ("^buggy_(action)$", "buggy engine"),
                    ("^buggy_die$", "vehicle explosion"), ("^artil\\.(action)$", "artillery fire"),
                    ("^artil\\.die$", "artillery explosion"), ("^destroyer\\.(action)$", "ship cannon"),
                    ("^destroyer\\.die$", "ship explosion"), ("^sfx_\\w+\\.die$", "building explosion"),
                    ("^(harvester|smolder)_die$", "vehicle explosion"),
                    ("_g_hit$", "ground impact explosion"), ("^(grenadier|medic|assault)_action$", "soldier footsteps"),
                    ("^bazoo_action$", "soldier footsteps"))),
    Package("extremetuxracer-data", "0.8.2-1", ("usr/share/games/etr/sounds/*",),
            labels=(("^tux_hit_tree", "tree hit thud"), ("^tux_on_", "sliding on "), ("^fish_pickup", "pickup chime"),
                    ("^ice_sound$", "sliding on ice"), ("^rock_sound$", "sliding on rocks"), ("^snow_sound$", "sliding on snow"),
                    ("^flying_sound$", "wind flying whoosh"))),
    Package("tecnoballz-data", "0.93.1-10", ("usr/share/games/tecnoballz/sounds/*",),
            exclude=r"rlife|rmoney|rtecno|rgadget|rmontre|rci\.|rappar|ralarm|rtransfo|raspire|reject",
            labels=(("^rbrique", "arcade brick hit"), ("^rbricote", "arcade brick bounce"),
                    ("^rindes", "arcade metal brick hit"), ("^rdetruit", "arcade metal brick break"),
                    ("^rraquette", "arcade paddle bounce"), ("^rtir", "arcade laser shot"),
                    ("^rex", "arcade explosion"), ("^ratom", "arcade atom zap")),
            catids=((".", "GAMEVideo"),)),
    Package("alienblaster-data", "1.1.0-11", ("usr/share/games/alienblaster/sound/*",), exclude=r"intro|playon",
            labels=(("^alarm$", "spaceship alarm"), ("^choose$", "menu select click"), ("^confirm$", "menu confirm blip"),
                    ("^explosionBoss$", "big explosion"), ("^shotPrimary$", "blaster shot"),
                    ("^shotSecondary$", "heavy blaster shot")),
            catids=(("^menu", "UIClick"), ("explosion", "EXPLDsgn"))),
    Package("pingus-data", "0.7.6-5.1", ("usr/share/games/pingus/data/sounds/*",),
            exclude=r"yipee|letsgo|ohno|goodidea|chink|tick", labels=(("^digger$", "digging"), ("^plop2?$", "plop")),
            licence="GPL-2.0-or-later", author="The Pingus team (Ingo Ruhnke and contributors)"),
    Package("torus-trooper-data", "0.22.dfsg1-13", ("usr/share/games/torus-trooper/sounds/*",),
            exclude=r"/music/|\.ogg$", licence="BSD-2-Clause", author="2004 Kenta Cho (ABA Games)", prefix="arcade",
            words=(("dest", "destroyed"), ("myship", "ship"), ("middle", "enemy"), ("extend", "extra life")),
            labels=(("^small_dest$", "arcade small enemy destroyed"),), catids=((".", "GAMEVideo"),)),
    Package("tumiki-fighters-data", "0.2.dfsg1-10", ("usr/share/games/tumiki-fighters/sounds/*",),
            exclude=r"/music/|\.ogg$", licence="BSD-2-Clause", author="2004 Kenta Cho (ABA Games)", prefix="arcade",
            words=(("extend", "extra life"), ("stuck", "enemy stuck"), ("pushin", "push")), catids=((".", "GAMEVideo"),)),
    Package("stormbaancoureur-data", "2.1.6-3.1", ("usr/share/games/stormbaancoureur/*",),
            licence="GPL-3.0-only", author="2006-2008 Bram Stolk",
            labels=(("^camaro", "car engine"), ("^detonationnorm", "explosion"))),
    Package("sound-icons", "0.1-8", ("usr/share/sounds/sound-icons/*",),
            exclude=r"capital|prompt|guitar|piano|trumpet|xylofon|cembalo|pipe|start|finish|klavichord|violoncello|"
                    r"cockchafer|(^|/)(\w+-)?(note|chord)",
            labels=(("^canary", "canary chirp"), ("^cymbaly", "cymbal crash"), ("^glass-water", "glass water clink"),
                    ("^gummy-cat", "rubber toy squeak"), ("^percussion", "percussion hit"),
                    ("^pisk-up-cink$", "rising whistle ding"), ("^pisk-up$", "rising whistle blip"),
                    ("^pisk-down-cink$", "falling whistle ding"), ("^pisk-down$", "falling whistle blip")),
            catids=(("whistle (blip|ding)", "UIBeep"),)),
    # small arcade and puzzle games: names that say what happens in the game, labelled as the sound a designer
    # would look for; names that say too little ("clear", "joint", "wow") are not taken
    Package("granatier", "4:22.12.3-1", ("usr/share/granatier/sounds/*",),
            labels=(("^break$", "crate break"), ("^corpse_explode$", "body explosion splat"),
                    ("^explode$", "bomb explosion"), (".", "")),
            catids=(("crate break", "WOODBrk"), ("body explosion", "GORESplt"))),
    Package("kpat", "4:22.12.3-1", ("usr/share/kpat/sounds/*",),
            labels=(("^card-pickup$", "playing card pick up"), ("^card-down$", "playing card put down"))),
    Package("kapman", "4:22.12.3-1", ("usr/share/sounds/kapman/*",), exclude=r"levelup|gameover|life",
            labels=(("^bonus$", "arcade bonus pickup"), ("^energizer$", "arcade power up"), ("^ghost$", "arcade ghost eaten"),
                    ("^pill$", "arcade pellet eat")),
            catids=((".", "GAMEVideo"),)),
    Package("kbounce", "4:22.12.3-1", ("usr/share/kbounce/sounds/*",), exclude=r"seconds|levelup|gameover",
            labels=(("^death$", "arcade death"), ("^wallend$", "arcade wall complete"), ("^wallstart$", "arcade wall start"),
                    ("^reflect$", "arcade ball bounce"), (".", "")),
            catids=((".", "GAMEVideo"),)),
    Package("bomber", "4:22.12.3-1", ("usr/share/bomber/sounds/*",),
            labels=(("^bomb$", "bomb explosion"), ("^crash$", "plane crash"))),
    Package("kblocks", "4:22.12.3-1", ("usr/share/kblocks/sounds/*",), prefix="arcade", catids=((".", "GAMEVideo"),)),
    Package("kgoldrunner", "4:22.12.3-1", ("usr/share/kgoldrunner/themes/*",), exclude=r"victory|gameover|completed|death",
            prefix="arcade", labels=(("^gold$", "arcade gold pickup"), ("^ladder$", "arcade ladder climb")), catids=((".", "GAMEVideo"),)),
    Package("kdiamond", "4:22.12.3-1", ("usr/share/sounds/KDiamond-*",),
            labels=(("Stone-Drop$", "gem drop"), ("Stone-Swap$", "gem swap"), ("Stone-Touch$", "gem touch")),
            catids=((".", "GAMEVideo"),)),
    Package("kollision", "4:22.12.3-1", ("usr/share/kollision/sounds/*",), exclude=r"you_lose|start",
            labels=(("^ball_leaving$", "arcade ball leaving"), ("^hit_wall$", "arcade ball hit wall")),
            catids=((".", "GAMEVideo"),)),
    Package("holotz-castle-data", "1.3.14-12", ("usr/share/games/holotz-castle/game/sound/*",),
            exclude=r"music|\.ogg$|HC(BeginLevel|EndLevel|Credits|GameOver|MainTitle)",  # tunes
            labels=(("^HCExitUnlocked$", "exit unlocked chime"), ("^HCObjectAcquired$", "item pickup chime")),
            catids=((".", "GAMEVideo"),)),
    Package("opencity-data", "0.0.6.5stable-5", ("usr/share/games/opencity/sound/*",),
            labels=(("^destroy$", "building demolition"), ("^eline2?$", "power line electric buzz"),
                    ("^eplant$", "power plant hum"), ("^park$", "park ambience"), ("^road$", "road construction"),
                    ("^terrain$", "terrain digging"), ("^wroum$", "car vroom pass by"), (".", ""))),
    Package("widelands-data", "2:1.1-3", ("usr/share/games/widelands/data/sound/*",
                                          "usr/share/games/widelands/data/tribes/*"),
            exclude=r"/message|/ui/|/music/|/scenario|/sound/(lobby|chat|military/(attack|under_attack|site_occupied))|"
                    r"blackwood|barbarians/mortar|create_construction_site|goldspin",  # what these sound like is unclear
            labels=(("^beerbubble", "beer brewing bubbles"), ("^winebubble", "wine fermenting bubbles"),
                    ("^benchsaw", "bench saw cutting wood"), ("^(big)?inn|^tavern", "tavern crowd ambience"),
                    ("^meal", "tavern meal cooking"), ("^ration", "tavern meal cooking"), ("^bird\\d", "bird chirp"),
                    ("^boar", "wild boar grunt"), ("^coyote", "coyote howl"), ("^crickets", "crickets chirping"),
                    ("^donkey", "donkey bray"), ("^falling_tools", "tools falling clatter"),
                    ("^farm_animal", "farm animal"), ("^(fast_)?woodcutting", "axe chopping wood"),
                    ("^fisher_pull_net", "fishing net pull from water"), ("^fisher_throw_net", "fishing net throw splash"),
                    ("^fizzle", "hot metal quench sizzle"), ("^frog", "frog croak"), ("^furnace", "furnace fire roar"),
                    ("^geologist_hammer", "rock hammer knocks"), ("^hammering", "hammering"), ("^horse", "horse neigh"),
                    ("^(gold|iron)ping", "metal ping"), ("^mill_turning", "mill wheel turning creak"),
                    ("^moose", "moose call"), ("^ox_", "ox moo"), ("^sawing", "hand saw sawing wood"),
                    ("^sawmill", "sawmill machine"), ("^scythe", "scythe mowing"),
                    ("^sharpening", "blade sharpening grindstone"), ("^sheep", "sheep bleat"),
                    ("^smith_", "blacksmith hammering anvil"), ("^toolsmith", "toolsmith hammering"),
                    ("^stag", "deer stag bellow"), ("^stonecutter", "stone chisel cutting"),
                    ("^stonegrind", "stone grinding"), ("^stonemason", "stone chisel cutting"),
                    ("^tree_falling", "tree falling"), ("^weav(er|ing)", "loom weaving"), ("^wolf", "wolf howl"))),
    Package("trigger-rally-data", "0.6.6.1-3", (f"{_GAME}/trigger-rally/data.zip/sounds/*",),
            exclude=r"codriver|chat|pfiff",
            labels=(("^bang$", "car crash bang"), ("^bums$", "car bump thud"), ("^gear$", "gear shift"),
                    ("^gravel$", "car driving on gravel"), ("^engine$", "rally car engine"))),
    Package("minetest-data", "5.6.1+dfsg+~1.9.0mt8+dfsg-2", ("usr/share/games/minetest/games/minetest_game/mods/*",),
            source=("usr/share/games/minetest/games/minetest_game/", "mtg/"),
            labels=(("^tnt_explode$", "tnt explosion"), ("^tnt_ignite$", "fuse ignite"),
                    ("^tnt_gunpowder_burning$", "gunpowder fuse burning"), ("^carts_cart_moving", "mine cart rolling"),
                    ("^doors_door_(open|close)$", "wooden door \\1"), ("^doors_fencegate_(open|close)$", "fence gate \\1")),
            words=(("doors", ""), ("tnt", ""), ("xpanes", ""), ("carts", ""), ("default", ""), ("env", ""))),
)


@dataclass(frozen=True)
class Stanza:
    patterns: tuple[str, ...]
    licence: str  # the DEP-5 short name as written
    copyright: str


@dataclass(frozen=True)
class Candidate:
    """A sound effect found in a package, with what its copyright file says about it."""

    package: str
    version: str
    path: str  # inside the package; archive members as ARCHIVE/member
    label: str
    licence: str  # a name in ALLOWED
    author: str


def stanzas(copyright_text: str) -> tuple[Stanza, ...] | None:
    """The ``Files:`` stanzas of a machine-readable copyright file, in order; None for a prose one."""
    if not copyright_text.lstrip().startswith("Format:"):
        return None
    out = []
    for paragraph in re.split(r"\n[ \t]*\n", copyright_text):
        fields: dict[str, str] = {}
        key = ""
        for line in paragraph.splitlines():
            if line[:1] in (" ", "\t") and key:
                fields[key] += "\n" + line.strip()
            elif ":" in line:
                key, _, value = line.partition(":")
                key = key.strip().lower()
                fields[key] = value.strip()
        if "files" in fields and "license" in fields:
            licence = fields["license"].split("\n")[0].strip()
            out.append(Stanza(tuple(fields["files"].split()), licence, fields.get("copyright", "")))
    return tuple(out)


def licence_name(dep5: str) -> str | None:
    """The manifest's name for a DEP-5 licence expression, or None when it is not allowed; of alternatives
    ("CC-BY-SA-3.0 or GPL-3") the first allowed one is taken."""
    for alternative in re.split(r"\s+or\s+", dep5.strip(), flags=re.I):
        name = _DEP5.get(alternative.strip().lower())
        if name is not None:
            return name
    return None


def holder(copyright_field: str) -> str:
    """A copyright field as one short line: years, e-mail addresses and '(c)' marks dropped."""
    text = re.sub(r"<[^>]*>|\(c\)|©|copyright", " ", copyright_field, flags=re.I)
    text = re.sub(r"\b(19|20)\d\d\s*(-|–|,)?\s*((19|20)\d\d)?\b,?", " ", text)
    parts = [re.sub(r"\s+", " ", p).strip(" ,.;") for p in text.split("\n")]
    return "; ".join(p for p in parts if p)[:160] or "unknown"


def matches(path: str, pattern: str) -> bool:
    """A DEP-5 ``Files:`` pattern (relative to the source tree) against an installed path (any suffix of it)."""
    return fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(path, "*/" + pattern)


def file_licence(path: str, found: tuple[Stanza, ...]) -> tuple[str | None, str]:
    """(licence name or None, copyright holder) for one file: the last matching stanza decides."""
    chosen = None
    for stanza in found:
        if any(matches(path, p) for p in stanza.patterns):
            chosen = stanza
    if chosen is None:
        return None, ""
    return licence_name(chosen.licence), holder(chosen.copyright)


_TRAILING_DIGITS = re.compile(r"(?<=[a-z])\d+[a-z]?\b")
_GENERIC = frozenset({"sfx", "snd", "sound", "sounds", "fx", "default", "new", "loop", "stereo", "mono", "short",
                      "long", "ogg", "wav", "oga", "sample", "and"})


def label_for(path: str, package: Package) -> str:
    """What a user would type for this file: the package's label for a cryptic name, else the cleaned name;
    "" for a file whose name says too little to label it (it is not taken)."""
    stem = Path(path).stem.replace("~", "")
    for pattern, label in package.labels:
        found = re.search(pattern, path if "/" in pattern else stem)  # a pattern with a "/" looks at the folders too
        if found:
            rest = stem[found.end():]
            if label.endswith(" "):  # a prefix: the rest of the name follows
                return clean_words(label + words_of(rest), package)
            return found.expand(label) if "\\" in label else label  # a "\\1" in it: a group of the name
    return clean_words(words_of(stem), package)


def clean_words(text: str, package: Package) -> str:
    text = _TRAILING_DIGITS.sub("", text.lower())
    replace = dict(package.words)
    words = []
    for word in re.split(r"[\s_\-.]+", text):
        word = replace.get(word, word)
        if word and word not in _GENERIC and not word.isdigit() and len(word) > 1:
            words.extend(word.split())
    if package.prefix:
        words.insert(0, package.prefix)
    out: list[str] = []
    for word in words:
        if word not in out:  # "explosion small explosion" -> "explosion small"
            out.append(word)
    return " ".join(out)


def _members(root: Path) -> list[tuple[str, Path, str | None]]:
    """Every audio file under a package root as (path inside the package, file, archive member or None)."""
    out = []
    for file in sorted(root.rglob("*")):
        rel = file.relative_to(root).as_posix()
        suffix = file.suffix.lower()
        if suffix in AUDIO and file.is_file():
            out.append((rel, file, None))
        elif suffix in ARCHIVES and file.is_file():
            try:
                with zipfile.ZipFile(file) as archive:
                    for member in sorted(archive.namelist()):
                        if member.lower().endswith(AUDIO):
                            out.append((f"{rel}/{member}", file, member))
            except zipfile.BadZipFile:
                continue
    return out


def candidates(package: Package, root: Path) -> list[tuple[Candidate, Path, str | None]]:
    """The sound effects a package gives, each with the file (or archive) it is read from."""
    doc = root / "usr" / "share" / "doc" / package.name / "copyright"
    text = doc.read_text(encoding="utf-8", errors="replace") if doc.is_file() else ""
    found = stanzas(text)
    if found is None and not package.licence:
        return []  # a prose copyright file that the table does not interpret: nothing is taken
    exclude = re.compile(package.exclude, re.I) if package.exclude else None
    out = []
    for rel, file, member in _members(root):
        if not any(fnmatch.fnmatchcase(rel, p) for p in package.include):
            continue
        if NOT_EFFECTS.search("/" + rel) or (exclude and exclude.search(rel)):
            continue
        if package.licence:
            licence: str | None = package.licence
            author = package.author
        else:
            assert found is not None
            archive_path = rel[: -len(member) - 1] if member else rel
            if package.source[0] and archive_path.startswith(package.source[0]):
                archive_path = package.source[1] + archive_path[len(package.source[0]):]
            licence, author = file_licence(archive_path, found)
        if licence is None or licence not in ALLOWED:
            continue
        label = label_for(rel, package)
        if label:
            out.append((Candidate(package.name, package.version, rel, label, licence, author), file, member))
    return out


def fetch(dest: Path) -> None:
    """Download and unpack every package of the table into ``dest/PKG`` (needs apt and the network)."""
    debs = dest / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    for package in PACKAGES:
        target = dest / package.name
        if target.is_dir():
            continue
        subprocess.run(["apt-get", "download", f"{package.name}={package.version}"], cwd=debs, check=True)
        deb = next(debs.glob(f"{package.name}_*.deb"))
        subprocess.run(["dpkg-deb", "-x", str(deb), str(target)], check=True)


if __name__ == "__main__":
    fetch(Path(sys.argv[1]))
