"""Storage: typed models, the engine wiring and the unit of work."""
