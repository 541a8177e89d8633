"""Regular expressions, one module per stage, compiled at import and each tested."""
