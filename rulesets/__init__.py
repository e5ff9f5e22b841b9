"""The embedded rulesets (data only): one folder per region and agreement period."""
