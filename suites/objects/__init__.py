"""OBJ: the objects core operations return: contract shape, id prefixes, `object` values, timestamps."""
