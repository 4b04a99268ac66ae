"""The scalar function table and the dtype rules elementwise ops are built on."""
