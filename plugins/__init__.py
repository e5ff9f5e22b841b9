"""The plugins that ship with rammeaftale-engine (entry-point group ``rammeaftale``)."""
