"""The Stasis (ARI) application: one handler object per call."""
