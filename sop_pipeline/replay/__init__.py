"""Plan replay (SPEC §14): what planning with each forecast would have earned over the last months, in
service, stock and cash, simulated one past month at a time with the live supply logic."""
