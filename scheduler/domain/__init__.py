"""The functional core: pure functions of plain values (no database, network or clock)."""
