"""Problems reported from the booths: open, assign, resolve."""
