"""UCS CatIDs for the built-in library's labels, checked by hand.

UCS word matching (:func:`sfxcli.labels.ucs_for`) scores a label's words
against each subcategory's name and synonyms; on short game-sound labels it
errs often ("large explosion" lands in BELLS-LARGE, "busy city street" in
VEHICLES-BUS). :data:`RULES` lists, for every kind of label the built-in
library has, the CatID a sound designer would file it under: the first
pattern found in the label decides. Package tables in
:mod:`sfxcli.library.debian` may decide first for labels whose meaning
depends on the game (an "explosion" in a space game is a designed one).
Word matching is only the fallback for a label no rule knows; the curation
script names those labels so that a rule can be added for them.
"""

from __future__ import annotations

import re

RULES: tuple[tuple[str, str], ...] = (
    # interface, alerts and game sounds
    (r"^arcade\b|\b(pickup|power up pickup|extra life|coin collect)\b|^gem (drop|swap|touch)$|"
     r"^(exit unlocked|item pickup) chime$", "GAMEVideo"),
    (r"\b(menu|interface)\b", "UIClick"), (r"^window .*(swoosh|stop)$", "UIMvmt"),
    (r"\b(notification|alert)$|\b(login|logout|online|offline|connected|disconnected|complete|feedback) chime$",
     "UIAlert"),
    (r"\b(volume change|list end|search .*) blip$|^(computer|scanner|radio hail) beep|^(rising|falling) whistle",
     "UIBeep"),
    (r"^trash empty|^line draw", "UIMisc"), (r"^glitch percussion", "UIGlitch"),
    (r"^countdown timer beep|^mine tick$", "BEEPTimer"),
    (r"^(computer lock on beep|computer jamming|computer monitor)", "SCICmpt"),
    (r"^(spaceship alarm|alarm klaxon)$", "SCIAlrm"), (r"^morse", "COMTelm"),
    (r"^(radio (noise )?static|radio click)", "COMRadio"), (r"^phone", "COMTelph"), (r"^typewriter", "COMType"),
    (r"^camera", "COMCam"), (r"^vinyl (hiss|scratch|rewind|backspin)", "COMPhono"),
    # drum and percussion samples, before crashes and splashes
    (r"\b(drum|hi hat|cymbal|snare|tom|triangle|wood block|percussion|cowbell)\b", "MUSCPerc"),
    (r"^electronic (bell|chime|bong)|^bell hit$", "MUSCBell"), (r"^electronic (pop|twang)", "DSGNSynth"), (r"^choir", "MUSCChor"),
    # footsteps, before what they step in
    (r"^footstep mech robot|^cyborg robot walk", "ROBTMvmt"), (r"^footstep flesh", "FEETMisc"),
    (r"^mammoth walk", "FEETCrea"), (r"^(horse|elvish horse) (canter|gallop)", "FEETHors"),
    (r"^(footsteps?|caveman footsteps|soldier footsteps|stomp)\b", "FEETHmn"),
    # magic and whooshes
    (r"^magic holy", "MAGAngl"), (r"^magic dark", "MAGEvil"), (r"^magic fairy|^invisibility shimmer", "MAGShim"),
    (r"^magic (missile|thorns)", "MAGSpel"), (r"^water magic", "MAGElem"),
    (r"^(fireball|fire|big fire|torch|fire arrow|fire crossbow bolt|fire burst)\b.*whoosh$", "FIREWhsh"),
    (r"^fireball shoot", "FIREWhsh"), (r"\bsuc(k|tion)\b", "AIRSuck"), (r"^dark whoosh", "DSGNWhsh"),
    (r"^wind turbine", "MACHMisc"), (r"(whoosh|swish|swoosh)$", "SWSH"),
    # explosions
    (r"^(huge|large|medium|small|tiny) (atomic|ion|plasma|ship destruction) explosion|^(emp|energy|laser|nuke|"
     r"kamikaze) explosion|^implosion|^explosion scifi|^heavy rocket explosion|^ion rain", "EXPLDsgn"),
    (r"^body explosion", "GORESplt"), (r"\bexplosions?\b|^shell impact", "EXPLReal"),
    (r"^bomb falling whistle", "EXPLMisc"), (r"^(fireworks? pop|firecracker)", "FRWKRec"), (r"^fireworks", "FRWKComr"),
    (r"^cinematic boom", "DSGNBoom"),
    # lasers, sci-fi weapons and guns
    (r"^(laser beam|electron beam|energy beam)", "LASRBeam"),
    (r"^(laser|heavy laser|plasma|blaster|heavy blaster|modified blaster|proton|ion cannon|neutron cannon|"
     r"ripper cannon|plasma cannon) (shot|gun|blast|laser)|^(pulse laser|laser repeater|plasma laser)$", "LASRGun"),
    (r"^(plasma|ion) impact|^laser death", "LASRImpt"), (r"^laser fly by", "LASRMisc"),
    (r"^(shield hit|meteor impact|crystal obelisk hit)", "SCIImpt"),
    (r"^(energy turret|energy weapon hum|anti missile turret|particle cannon|railgun hum|grapple strike|"
     r"space mine deploy|mine launch$|torpedo launch|gauntlet buzz)", "SCIWeap"),
    (r"^(railgun shot|gauss gun shot|mass driver shot|nail gun shot|mine launcher shot)", "GUNTech"),
    (r"^(musket|flintlock|cavalry musket)", "GUNAntq"),
    (r"^(naval cannon|cannon bombard|artillery cannon)", "GUNCano"),
    (r"\b(cannon|howitzer|mortar shot|artillery fire|bazooka (shot|fire)|grenade launcher)\b", "GUNArtl"),
    (r"^(artillery shell|machine gun) battle", "AMBWar"),
    (r"\b(machine gun|minigun fire|gatling gun|autocannon|assault rifle|rifle burst|gun turret|tracer shot)\b",
     "GUNAuto"),
    (r"^(shotgun (blast|shot))", "GUNShotg"),
    (r"^(pistol|rifle|shotgun) (cock|reload|pump)$|dry fire click$|shot and cock$|^gun empty click|"
     r"^weapon load click|^minigun spin", "GUNMech"),
    (r"^weapon (switch|holster)", "GUNHndl"), (r"^pistol (shot|fire)", "GUNPis"), (r"^rifle (fire|shot)", "GUNRif"),
    (r"^gunshot$", "GUNMisc"),
    (r"^bullet ricochet", "BLLTRico"), (r"^(bullet whiz|shell miss whiz)", "BLLTBy"), (r"^bullet shell casing", "BLLTShel"),
    (r"^(nail impact|mine stick impact)", "BLLTImpt"),
    # melee weapons
    (r"^(bow arrow|small bow arrow|fire arrow|crossbow|fire crossbow bolt)\b.*shot$", "WEAPBow"),
    (r"^dart (throw|hit|blow)", "WEAPArro"), (r"^sword clash", "WEAPSwrd"), (r"^(axe|hatchet) hit", "WEAPAxe"),
    (r"^(club|mace|flail|staff) hit", "WEAPBlnt"), (r"^knife slash|^throwing knife$", "WEAPKnif"),
    (r"^spear stab", "WEAPPole"), (r"^(grenade throw|sling throw|big sling throw|rope net throw)", "WEAPMisc"),
    # sci-fi
    (r"^(teleport|portal hum|force (field|shield)|shield activate|magnetic shield|power up hum|power charge up|"
     r"energy hover|jump pad|tractor beam)", "SCIEnrg"),
    (r"^(hyperdrive|hyperspace|jump drive|spaceship|afterburner|ionic afterburner)", "SCIShip"),
    (r"^(hover vehicle|jetpack)", "SCIVeh"), (r"^harvester machine", "MACHInd"),
    (r"^(robot bleeps|glitch robot)$", "ROBTVox"), (r"^robot$", "ROBTMisc"),
    # voices
    (r"^(woman|man|old man|soldier) (death|falling scream|scream)|^man scream", "VOXScrm"),
    (r"^(woman|man|old man|caveman) (pain|fall|jump|attack) (grunt|yell)", "VOXEfrt"),
    (r"^man gasp", "HMNBrth"), (r"drowning", "HMNMisc"), (r"^man (grunt|cheer)", "VOXMale"),
    (r"^(dwarf|evil) laugh|giggle laugh", "VOXLaff"), (r"^crowd oooh", "CRWDReac"), (r"^mermaid singing", "VOXSing"),
    (r"^caveman dazed", "VOXReac"), (r"^cartoon (character|jump grunt|back flip|super jump yell|hurt)", "TOONVox"),
    # creatures
    (r"^skeleton bones", "GOREBone"),
    (r"^(ghost|ghostly|ghost wisp)\b|^undead moan", "CREAEthr"),
    (r"^(zombie|ogre|orc|troll|goblin|lich|skeleton|ghoul|dwarf|elf|merman|mermaid|snake creature)\b", "CREAHmn"),
    (r"^gryphon\b", "CREAAvian"), (r"^dragon\b", "CREADrgn"), (r"^mammoth\b", "CREABeast"),
    (r"^(yeti|monster growl)", "CREAMnstr"), (r"^tree creature", "CREAElem"), (r"^squishy slime", "CREABlob"),
    (r"^pterodactyl", "WINGCrea"), (r"^(creature|small creature)\b|^claws slash|^groan$", "CREAMisc"),
    # animals and birds
    (r"\bwings? flapping|^bat flapping", "WINGMisc"),
    (r"^horse cart", "VEHWagn"), (r"^(bat|bats)\b", "ANMLBat"), (r"^(wolf|coyote)\b", "ANMLWdog"),
    (r"^(dog|puppy)\b", "ANMLDog"), (r"^cat\b", "ANMLCat"), (r"^(lion|tiger|leopard|jaguar)\b", "ANMLWcat"),
    (r"^(horse|donkey|zebra)\b", "ANMLHors"), (r"^(gorilla|monkeys?)\b", "ANMLPrim"),
    (r"^(squirrel|mouse)\b", "ANMLRdnt"), (r"^(cobra|snake)\b", "ANMLRept"), (r"^frogs?\b", "ANMLAmph"),
    (r"^(dolphin|whale|sea lion|crab)\b", "ANMLAqua"),
    (r"^(cow|sheep|goat|lamb|pig|ox|yak|camel|farm animal)\b", "ANMLFarm"),
    (r"^(bee|bumble bee|cicada|cricket|grasshopper|crickets)\b", "ANMLInsc"),
    (r"^(bear|wild boar|boar|moose|deer|raccoon|baby raccoon|elephant)\b", "ANMLWild"),
    (r"^(chicken|duck|goose|quail|rooster|turkey|trumpeter swan)\b", "BIRDFowl"),
    (r"^crow\b", "BIRDCrow"), (r"^(owl|vulture)\b", "BIRDPrey"), (r"^(seagulls?|penguin)\b", "BIRDSea"),
    (r"^(parrot|peacock|tropical bird|exotic birds)\b", "BIRDTrop"), (r"^(woodpecker|pigeon)\b", "BIRDMisc"),
    (r"^(canary|bird)\b", "BIRDSong"),
    # ambiences
    (r"^(birds chirping|morning birds)", "AMBBird"), (r"^night crickets", "AMBInsc"),
    (r"^(ship creak waves|harbor)", "AMBNaut"), (r"^market crowd", "AMBMrkt"), (r"^(restaurant|tavern) crowd", "AMBRest"),
    (r"^busy city street", "AMBUrbn"), (r"^(quiet )?residential street", "AMBHome"), (r"^(heavy|light) traffic", "AMBTraf"),
    (r"^(heavy|light) industry|^(ore mine|coal mine|mining) (machinery|digging)|^power plant hum", "AMBInd"),
    (r"^lake ducks", "AMBLake"), (r"^park (birds )?ambience", "AMBPark"), (r"^farm animals", "AMBFarm"),
    (r"^cave ambience", "AMBUndr"), (r"^lunar landing ambience", "AMBSci"), (r"^sauna ambience", "AMBMisc"),
    (r"^(construction (hammering|work)|bridge construction|road construction|stone wall building)", "AMBCnst"),
    (r"^stadium crowd", "CRWDSprt"), (r"^applause", "CRWDApls"),
    # designed
    (r"\bdrone\b|^(eerie|dark) (drone|ambience)", "DSGNDron"), (r"^distant rumble", "DSGNRmbl"), (r"^runway rumble", "AEROMisc"),
    (r"^haunted hum", "DSGNErie"), (r"^impact hit$", "DSGNImpt"),
    # weather, nature, fire
    (r"^lightning gun", "ELECZap"), (r"^(lightning|thunder)", "THUN"), (r"rain windshield", "RAINGlas"),
    (r"\brain$", "RAIN"), (r"^earthquake", "NATDQuak"), (r"^tornado", "NATDTorn"), (r"^cave in rocks", "ROCKCrsh"),
    (r"^howling wind trees", "WINDVege"), (r"^howling wind", "WINDTonl"), (r"^wind\b(?! ?mill)", "WIND"),
    (r"^lava (bubbling|burn)|^lava$", "GEOLava"), (r"^geyser", "GEOGeyser"),
    (r"^torch fire", "FIRETrch"), (r"^(fuse|short fuse|dynamite fuse|gunpowder fuse)\b.*(burning|fuse)$|^dynamite fuse",
                                   "FIRESizz"),
    (r"^(fuse ignite|match ignite)", "FIREIgn"), (r"\bsizzle$", "FIRESizz"),
    (r"^(campfire|fire|embers fire) crackle", "FIRECrkl"), (r"^(flamethrower|fire lance|blowtorch)", "FIREGas"),
    (r"^(fire burst|big fire burst|flame burst)", "FIREBrst"),
    (r"^(fire burning|flame$|furnace|wasteland fire)", "FIREBurn"),
    # water and liquid
    (r"^waterfall", "WATRFall"), (r"^(river|fountain)", "WATRFlow"), (r"^(ocean waves|water wave)", "WATRWave"),
    (r"^water lapping", "WATRLap"), (r"^water drips", "WATRDrip"), (r"^(steam hiss|steam puff)", "WATRStm"),
    (r"^(water bubbles|water rising bubbling|sinking in water)", "WATRBubl"), (r"^underwater", "WATRUndwtr"),
    (r"^caveman swimming|^fishing net pull", "WATRMvmt"), (r"splash\b", "WATRSplsh"),
    (r"^(bubblegum|balloon|cartoon|fruit) pop|^plop$", "TOONPop"),
    (r"^(bubble|beer brewing bubbles|wine fermenting)", "LIQBubl"), (r"^mud slide", "LIQMvmt"),
    (r"^(mud|goo|gloop|squish)\b", "LIQImpt"),
    # gore and fight
    (r"^gore flesh", "GOREFlsh"), (r"^gore splatter", "GORESplt"),
    (r"^(punch hit|melee punch|kick hit|face slap|body hit|caveman knockout)", "FGHTImpt"),
    (r"^(body (land|flop)|heavy thud)", "FGHTBf"),
    # movement on surfaces
    (r"^grass slide", "VEGEGras"), (r"^leaves", "VEGELeaf"), (r"^(ice slide|ice skid)", "ICEFric"),
    (r"^snow slide", "SNOWMvmt"), (r"^snowball", "SNOWImpt"), (r"^snow falling", "SNOWMisc"),
    (r"^rock slide", "ROCKFric"), (r"^caveman climb", "MOVEHmn"),
    # aircraft, rockets, boats, trains, vehicles
    (r"^helicopter", "AEROHeli"), (r"^(vtol|transport aircraft|bomber plane|fighter jet)", "AEROMil"),
    (r"\bjet\b|^turbojet|^turbine engine", "AEROJet"),
    (r"^(propeller|turboprop|radial aircraft|airplane prop|aircraft engine|engine coughing|engine prop)", "AEROProp"),
    (r"^(plane landing wheels|gyroscope|landing gear|flaps|engine starter|engine cranking|engine primer|"
     r"wheels rolling)", "AEROMech"),
    (r"^(aircraft|plane|car) crash", "DESTRCrsh"), (r"^aircraft door", "AERODoor"),
    (r"^(glove compartment|aircraft window)", "AEROInt"), (r"^parachute", "CLOTHFlp"), (r"^aircraft scrape", "METLFric"),
    (r"^(rocket|auto rocket|missile|seeker missile|mace rocket|flare launch)", "AERORckt"),
    (r"^(ferry|ship) horn", "BOATHorn"), (r"^ship (sinking|cargo)", "BOATShip"),
    (r"^steam (engine|train|locomotive)", "TRNSteam"), (r"^diesel electric train", "TRNDiesl"),
    (r"^(maglev|monorail) train", "TRNHspd"), (r"^train (passing|breakdown)", "TRNMisc"),
    (r"^level crossing", "ALRMBell"), (r"^fire station siren", "ALRMSirn"),
    (r"^(train|factory) whistle", "WHSTMech"), (r"^whistle$", "WHSTHmn"),
    (r"^(heavy )?tank (engine|treads|movement|moving)", "VEHMil"),
    (r"^construction vehicle", "VEHCnst"), (r"^farm tractor", "VEHFarm"),
    (r"^(tire skid|tire squeal|tires screech)", "VEHSkid"), (r"^tires rolling|^car driving on gravel", "VEHTire"),
    (r"^(car|vehicle|modern car) horn", "VEHHorn"), (r"^rally car", "VEHRace"),
    (r"^(car|vehicle) (engine|accelerate|vroom)", "VEHCar"), (r"^(modern|old) bus|^truck old bus", "VEHBus"),
    (r"^cartoon (bus|truck)", "TOONVeh"), (r"^(vehicle|engine) breakdown|^gear shift", "VEHMech"),
    (r"^motorbike", "VEHMoto"), (r"^buggy", "VEHAtv"), (r"^bicycle (bell|horn|spokes)", "VEHBike"),
    (r"^small engine", "MOTRComb"),
    # machines, tools, mechanical
    (r"^elevator platform", "MACHElev"),
    (r"^(air compressor|oil pump|pump machine|water pump)", "MACHPump"), (r"^fan hum", "MACHFan"),
    (r"^(sawmill|machinery hum|construction machinery)", "MACHInd"),
    (r"^(toy factory|toyland sugar mine|toffee quarry|plastic mine) machine", "TOONMach"),
    (r"^(flour mill|mill wheel|pottery wheel|loom weaving|cash register|windmill)", "MACHAntq"),
    (r"^machine (hum|drone)", "MACHMisc"),
    (r"^jackhammer", "TOOLPneu"), (r"^(chainsaw|bench saw)", "TOOLPowr"),
    (r"^(hand saw|saw cutting|hammering|toolsmith|tool work|hammer hit|shears)", "TOOLHand"),
    (r"^scythe", "TOOLGrdn"), (r"^welding torch", "ELECArc"), (r"^blade sharpening", "METLFric"),
    (r"^(switch|electric power switch|knob scroll|trim wheel)", "MECHSwtch"), (r"^(lever pull|control lock)", "MECHLvr"),
    (r"^button (press|click)", "MECHClik"), (r"^(turret|gauntlet motor)", "MOTRElec"),
    (r"^key turn lock|^keys jingle", "OBJKey"), (r"^door locked", "DOORHdwr"),
    # electricity
    (r"^(electric (crackle|sparking)|power sparks)", "ELECSprk"), (r"\bzap(per)?\b", "ELECZap"),
    (r"^battery charge", "ELECMisc"), (r"^glass (hum|rub|water)", "GLASTonl"),
    (r"\b(hum|buzz)$|^electric current", "ELECBuzz"),
    # doors and bells
    (r"^glass door", "DOORGlas"), (r"^steel door", "DOORMetl"), (r"^(wooden door|door open|door close)", "DOORWood"),
    (r"^fence gate", "DOORGate"), (r"^sliding door", "DOORSlid"), (r"^door creak", "DOORCreak"),
    (r"^door knock|^wooden totem knock", "DOORKnck"), (r"^doorbell", "BELLDoor"), (r"^church bells", "BELLLrg"),
    (r"^war horn", "HORNTrad"), (r"^clock tick|^watch tick", "CLOCKTick"),
    # materials
    (r"^(glass break|crystal shatter)", "GLASBrk"),
    (r"^ice (break|cracking)", "ICEBrk"), (r"^ice crash", "ICECrsh"), (r"^ice (dig|block)", "ICEImpt"),
    (r"^(metal break|metal crunch|tools falling)", "METLCrsh"),
    (r"^(metal (clang|clack|impact|dig|dug)|anvil clang|blacksmith|hot metal|grenade bounce|bomb bounce)", "METLImpt"),
    (r"^metal ping", "METLTonl"), (r"^scrape$", "METLFric"),
    (r"^(wood break|crate break|tool break)", "WOODBrk"), (r"^(wood hit|wooden crate|axe (wood|chopping))", "WOODImpt"),
    (r"^tree creak", "WOODFric"), (r"^wooden bridge", "WOODMvmt"),
    (r"^(stone (hit|chisel)|pickaxe stone|rock hammer)", "ROCKImpt"), (r"^stone grinding", "ROCKFric"),
    (r"^brick break", "ROCKBrk"), (r"^(gravel (dig|shovel)|digging|terrain digging)", "DIRTHndl"),
    (r"^paper (tear|rip)", "PAPRRip"), (r"^playing card", "PAPRHndl"),
    (r"^chest open", "OBJCont"), (r"^building (collapse|demolition)", "DESTRClpse"), (r"^(big )?crash$", "DESTRCrsh"),
    (r"^tree (falling|hit|crash|shake)", "VEGETree"), (r"^(plant snap|vines)", "VEGEMisc"),
    (r"^(construction splat|splat$)", "TOONSplt"),
    (r"^(boing|trampoline)|^cartoon (big jump|jump|hop|bounce)", "TOONBoing"), (r"^cartoon fall whistle", "TOONWhis"),
    (r"^anvil falling", "TOONMisc"), (r"toy squeak", "TOYMech"), (r"^balloon inflate", "TOYMisc"),
    # objects, food, human
    (r"^(eating|apple bite)", "FOODEat"), (r"^gulp", "FOODDrnk"), (r"^tavern meal", "FOODCook"),
    (r"^vomit", "HMNVomit"), (r"^burp", "HMNBurp"), (r"^finger snap", "HMNSkin"),
    (r"^zipper", "OBJZipr"), (r"^coin", "OBJCoin"), (r"^(chalk|pencil|eraser|paint brush)", "OBJWrite"),
    (r"^rubber stamp", "OBJOffc"), (r"^(medkit|syringe)", "OBJMed"), (r"^mine cart", "OBJWhled"),
    (r"^fly swatter", "OBJHsehld"), (r"^bowling", "SPRTIndor"), (r"^baseball", "SPRTField"),
    (r"^grappling rope cable", "ROPEMvmt"), (r"^grappling rope", "ROPEHndl"), (r"^(air hiss|air compression)", "AIRHiss"),
    (r"\b(beep|bleep|blip|ping|plip|blup)\b", "BEEP"),
)


def catid_for(label: str, fixed: tuple[tuple[str, str], ...] = (),
              preferred: tuple[str, ...] = ()) -> tuple[str, str]:
    """(CatID or "", how it was found: "package", "table", "words" or "") for a label: the package's
    hand-checked CatID where given, else the shared table's, else UCS word matching (inside the package's
    categories when one matches well, else anywhere)."""
    from sfxcli.labels import tokens, ucs_for

    for how, rules in (("package", fixed), ("table", RULES)):
        for pattern, catid in rules:
            if re.search(pattern, label, re.I):
                return catid, how
    enough = min(2.0, float(len(tokens(label))))
    if preferred:
        found, score = ucs_for(label, preferred)
        if found is not None and score >= enough:
            return found.catid, "words"
    found, score = ucs_for(label)
    return (found.catid, "words") if found is not None and score >= 1.0 else ("", "")
