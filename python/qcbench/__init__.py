"""qcbench: the Python shared by bench/, scripts/ and the test inputs.

The entry points stay files run by path with Debian's /usr/bin/python3; they
import this package, which their callers put on the path with
PYTHONPATH=<repo>/python (scripts/py does it; CMake and lit set it for the
tests). Layout and usage: python/README.md.
"""
import os

# The repository root (python/qcbench/ -> repo).
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
