"""The Django-free media pipeline: frame sources, motion, person detection, rendering, segmenting.

Plain numpy arrays and dataclasses in and out; every dependency (source, detector, clock,
storage, stop event) is passed in, so tests run it on files and a loopback RTSP server.
"""
