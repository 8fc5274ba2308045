"""The device pool on a Ray cluster (`retouch serve --ray ADDRESS`): `pool.RayPool`, the coordinator's side,
another implementation of `retouch.server.pool_base.Pool`; `bridge`, the child process that is the Ray driver;
`worker`, the actor on each GPU; `protocol`, what they say to each other. Importing this package imports no Ray.
"""
