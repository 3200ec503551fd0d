"""The VA paper (Yu et al., ABAW6 2024): Aff-Wild2 valence-arousal with six-fold cross-validation."""
