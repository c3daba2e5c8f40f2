"""Schools: the records of the schools the collector knows, and the national directory import."""
