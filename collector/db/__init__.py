"""Store: the database engine, the tables and their migrations, and the stored forms of samples."""
