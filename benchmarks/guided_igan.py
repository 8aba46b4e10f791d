"""iGAN's member of the guided-generation benchmark (issue 20's benchmarks/guided.py, assembled by the lead):
projection errors and edit success on MNIST. The measurement lives in benchmarks/projection.py (issue 21's
name); this module gives it the shared interface ``add_arguments`` / ``run`` / ``table``.

    python benchmarks/guided_igan.py --ckpt <run>/checkpoints/last.ckpt [--quick]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from projection import add_arguments, main, run, table  # noqa: E402,F401

if __name__ == "__main__":
    main()
