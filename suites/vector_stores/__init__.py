"""VSTORE: vector stores, their files and file batches: indexing, file_counts, cancel, modify, delete."""
