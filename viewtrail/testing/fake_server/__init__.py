"""The fake platform server, in parts: ``state`` (switches, counters, account changes), ``wire`` (answer shapes
shared by the routes), ``handlers`` (the base of a route group), ``videos`` and ``accounts`` (the route groups)
and ``app`` (the ASGI app and the server). Tests and benches import it through
:mod:`viewtrail.testing.fake_platform`."""
