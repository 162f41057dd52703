"""The OSC bridge to DAWs: `sfx serve` (server, worker) and `sfx send` (client)."""
