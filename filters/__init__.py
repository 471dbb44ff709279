"""Pure document filters: document -> signals (numbers) -> decision (None to keep, else a rule name)."""
