"""`just snkrs-queries` is checked on the generator's compressed drop cycle (tests/generator/conftest.py)."""

from tests.generator.conftest import drop_cycle

__all__ = ["drop_cycle"]
