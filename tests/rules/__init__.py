"""Pure analysis: the gap, diagnoses."""
