"""The pure rules of accounts: no FastAPI, asyncpg or aiokafka here."""
