"""The core every layer depends on: the error tree, the table specs, hashing and the warehouse settings."""
