"""Runtime shims that let old third-party libraries run on this project's Python/torch stack.

Each module patches one library in memory when its ``install()`` is called by a patched
upstream entry point; nothing in site-packages is edited.
"""
