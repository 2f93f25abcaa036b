"""Builds the Python module deepen with the project's CMake (only the module's target), and puts
the shipped predictors/ in the package, where the module looks for its registry first.

    pip install --no-build-isolation .          # offline: Debian's setuptools, pybind11-dev, ...

Environment: DEEPEN_CMAKE_BUILD_DIR (default build-python/ in the source tree; reused from one
install to the next), CMAKE_BUILD_PARALLEL_LEVEL (default: every core), DEEPEN_CMAKE_ARGS (more
-D options).
"""
import os
import pathlib
import shlex
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = pathlib.Path(__file__).resolve().parent


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        target = pathlib.Path(self.get_ext_fullpath(ext.name)).resolve()
        build = pathlib.Path(os.environ.get("DEEPEN_CMAKE_BUILD_DIR") or ROOT / "build-python").resolve()
        configure = ["cmake", "-S", str(ROOT), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
                     f"-DPython3_EXECUTABLE={sys.executable}", "-DDEEPEN_PYTHON=ON", "-DDEEPEN_TESTS=OFF",
                     *shlex.split(os.environ.get("DEEPEN_CMAKE_ARGS", ""))]
        subprocess.check_call(configure)
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(os.cpu_count() or 1)
        subprocess.check_call(["cmake", "--build", str(build), "--target", "deepen_python", "-j", jobs])
        built = build / "python" / "deepen"
        modules = sorted(built.glob("_core*.so"))
        if len(modules) != 1:
            sys.exit(f"deepen: expected one _core module in {built}, found {[m.name for m in modules]} (is "
                     "pybind11-dev installed? CMake says why it left the module out)")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(modules[0], target)
        registry = target.parent / "predictors"
        if registry.exists():
            shutil.rmtree(registry)
        shutil.copytree(ROOT / "predictors", registry)


setup(
    packages=["deepen"],
    package_dir={"deepen": "python/deepen"},
    ext_modules=[Extension("deepen._core", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    # setuptools' own staging, out of the way of CMake's build/ folder.
    options={"build": {"build_base": "build-python/setuptools"}, "egg_info": {"egg_base": "build-python"}},
    zip_safe=False,
)
