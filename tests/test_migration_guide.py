"""The migration guide's Python runs, block after block in one namespace, as a reader would."""

import re
from pathlib import Path

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "migrating-from-tfp-layers.md"


def test_guide_python_blocks_run_in_order():
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.S)
    assert len(blocks) == 4
    namespace = {}
    for block in blocks:
        exec(compile(block, str(GUIDE), "exec"), namespace)
    assert namespace["low"].shape == (500, 1) and namespace["vae"].output_shape == (None, 28 * 28)
    assert len(namespace["laplace"].history.history["loss"]) == 1
