"""``make peers``: the ecosystem's own extractors, unchanged, against the sandbox (DESIGN §7)."""
