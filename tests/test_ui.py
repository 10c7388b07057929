"""`make ui` serves the Dagster UI with the pinned Dagster's own CLI, on localhost by default."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_make_ui_runs_dg_dev_on_the_workspace_file_bound_to_localhost():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^UI_HOST \?= 127\.0\.0\.1$", makefile, re.M)
    recipe = makefile.split("\nui:", 1)[1].split("\n\n", 1)[0]
    assert "dg dev -w workspace.yaml -h $(UI_HOST) -p $(UI_PORT)" in recipe
    assert "dagster dev" not in recipe


def test_dg_is_the_cli_of_the_pinned_dagster():
    import importlib.metadata

    dg = Path(sys.executable).with_name("dg")
    done = subprocess.run([str(dg), "--version"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-1] == importlib.metadata.version("dagster")
