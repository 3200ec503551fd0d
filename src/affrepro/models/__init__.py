"""Network building blocks shared by the papers (TCN, temporal Transformer) and per-paper heads."""
