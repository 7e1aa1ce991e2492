"""Install-time fix for randaugment 1.0.2 on numpy >= 1.24 (`np.int` was removed).

randaugment.py:372 and :380 call `.astype(np.int)`; this rewrites exactly those two calls to
`.astype(int)` (the builtin `np.int` aliased) in the installed package, once, right after
`pip install -r containers/sbce/requirements.txt`. Run with the interpreter of that environment:
`python containers/sbce/fix_randaugment.py`. It refuses any other file content (one line).
"""

import importlib.util
import pathlib
import sys

OLD, NEW, COUNT = ".astype(np.int)", ".astype(int)", 2

spec = importlib.util.find_spec("randaugment.randaugment")
if spec is None or spec.origin is None:
    sys.exit("fix_randaugment: randaugment is not installed: pip install randaugment==1.0.2 first")
path = pathlib.Path(spec.origin)
text = path.read_text()
found = text.count(OLD)
if found == 0 and text.count(NEW) >= COUNT:
    print(f"fix_randaugment: {path} already fixed")
elif found != COUNT:
    sys.exit(
        f"fix_randaugment: {path} has {found} '{OLD}' (expected {COUNT}): not randaugment 1.0.2?"
    )
else:
    path.write_text(text.replace(OLD, NEW))
    print(f"fix_randaugment: {path}: {COUNT} x np.int -> int")
