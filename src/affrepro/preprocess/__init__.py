"""Per-sample preprocessing: aligned face crops from video, normalised audio."""
