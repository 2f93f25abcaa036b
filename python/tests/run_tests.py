"""Runs the Python module's pytest suite (the ctest `python`); exits 77 (skipped) with the reason
when pytest or the built module is missing, so that the C++ suite still passes without them."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

try:
    import pytest
except ImportError:
    print("skipped: pytest is not installed (Debian: python3-pytest)")
    sys.exit(77)
try:
    import deepen  # noqa: F401
except ImportError as e:
    print(f"skipped: the module deepen does not import ({e}); build it (pybind11-dev, python3-dev) and put "
          "build/python on PYTHONPATH")
    sys.exit(77)

sys.exit(pytest.main([HERE, "-q", "-p", "no:cacheprovider", *sys.argv[1:]]))
