"""The committee directory: import/export, coverage, the change feed and call-outcome write-back."""
