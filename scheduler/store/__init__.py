"""Storage: SQLAlchemy models, the engine, and small repositories over them."""
