"""AZURE and V1: rules of one dialect only (Azure's api-version and api-key, v1's file_ids, retrieval and
file sub-resources). Each check is marked @pytest.mark.dialect(NAME) and reported unsupported under the
other dialects."""
