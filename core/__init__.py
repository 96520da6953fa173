"""Low shared pieces every feature may use: typed service errors (imports nothing of ours)."""
