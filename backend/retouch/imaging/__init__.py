"""Pure image functions on numpy arrays: uint8 HxWx3/HxWx4 pictures, HxW uint8 masks (255 = fill)."""
