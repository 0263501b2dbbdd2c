"""The dashboard driven with keys, the way a person does (Textual Pilot)."""
