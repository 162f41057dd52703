"""The OSC bridge to DAWs (`sfx serve`); see the open issue on the bridge."""
