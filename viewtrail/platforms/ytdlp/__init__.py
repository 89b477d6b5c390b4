"""The ``ytdlp`` extraction backend: video metrics read by yt-dlp's extractors, sent through viewtrail's own
HTTP machinery (:mod:`.bridge`), mapped to viewtrail's metrics (:mod:`.metrics`) and outcomes (:mod:`.outcomes`);
the clients of the ``ytdlp`` and ``auto`` backends are in :mod:`.client`.

yt-dlp loads only when a client of these backends is built: importing this package imports nothing heavy.
"""
