"""Judge: schools' verdicts from their samples, one school or all of them, stored and kept fresh."""
