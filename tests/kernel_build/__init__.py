"""The real-tree build check of the generated kernel C (build_check.py) and its parts."""
