"""One module per platform API emulated by the replay server (found with pkgutil)."""
