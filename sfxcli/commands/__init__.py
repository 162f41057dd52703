"""One module per command group; ``sfxcli.app`` joins them."""
