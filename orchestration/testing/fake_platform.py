"""``python -m orchestration.testing.fake_platform``: the fake platform server's name before the product moved to
``viewtrail``, kept because earlier docs and scripts start it so; it runs ``viewtrail.testing.fake_platform``."""

import runpy

if __name__ == "__main__":
    runpy.run_module("viewtrail.testing.fake_platform", run_name="__main__", alter_sys=True)
