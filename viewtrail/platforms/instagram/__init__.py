"""Instagram: URL grammar (``urls``), video client (``client``), account client (``accounts``) and ``spec``.

Importing the package loads nothing: the registry reads ``spec`` and loads the clients when they are built.
"""
