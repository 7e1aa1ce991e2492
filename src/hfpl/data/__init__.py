"""Datasets and weights: downloads, VOC/SBD/COCO preparation, list files, smoke data, init weights.

Submodules are imported on demand (``from hfpl.data import smoke``); nothing heavy happens here.
"""
