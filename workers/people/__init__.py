"""Offline person detection and anonymized silhouettes for the congestion images (docs/product.md §6.1–6.2).

detector.py  frame -> people (boxes, keypoints); ONNX models run by onnxruntime, and a fake
render.py    background + people -> public JPEG (never the frame); background blur, day/night
analyse.py   one analysis with timings
weights.py   pinned weights (sha256), their ONNX exports and manifests under var/models/
build_models.py  install-time export, run by bin/setup
"""
