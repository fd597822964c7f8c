"""The compiled parts of the package, which setup.cfg cannot declare.

Both are optional accelerators: ``optional`` means a machine without a C compiler still
installs the package, and the same work then runs in Python.

* ``translators.mapping._accel``: the mapping engine's hot loops (translators/mapping/engine.py).
* ``translators.validation._accel``: a "no issue here" predicate for validation's success path
  (translators/validation/fast.py); any other answer is worked out in Python.
"""

from setuptools import Extension, setup

SHARED = ["translators/cpython_slots.h"]

setup(ext_modules=[
    Extension("translators.mapping._accel", ["translators/mapping/_accel.c"], depends=SHARED,
              optional=True),
    Extension("translators.validation._accel", ["translators/validation/_accel.c"],
              depends=SHARED, optional=True),
])
