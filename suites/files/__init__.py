"""FILE: the Files API: upload, retrieve, content round trip, list filters and paging, delete, size limit."""
