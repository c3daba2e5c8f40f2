"""Equipment: the declared items, the facts agents measured, and the equipment judge (E1-E4)."""
