"""The project stands on its own: no tracked file names one machine's folders or our team's private notes.

Data is found through ``$LIT_GANS_DATA_DIR`` or ``../shared/data`` beside the repository; published numbers
live in ``benchmarks/reference_numbers.py`` with their sources.
"""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# built from pieces so that this file does not match itself
FORBIDDEN = ("/" + "work/", "REFERENCE" + "-NUMBERS", "shared" + "/seeds")
SKIP_DIRS = {".git", "outputs", "multirun", "out", "__pycache__", "lightning_logs", "wandb"}


def tracked_files() -> list[Path]:
    """git's list of tracked files; outside a git checkout, every file not under a skipped folder."""
    try:
        names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
        return [ROOT / n for n in names.decode().split("\0") if n]
    except (OSError, subprocess.CalledProcessError):
        return [p for p in ROOT.rglob("*") if p.is_file() and not (set(p.relative_to(ROOT).parts[:-1]) & SKIP_DIRS)
                and not any(part.startswith(".venv") for part in p.parts)]


def forbidden_lines(files: list[Path]) -> list[str]:
    """``path:line: text`` of every line of a text file that holds a forbidden string."""
    hits = []
    for path in files:
        if not path.is_file():  # deleted in the working tree but still tracked
            continue
        data = path.read_bytes()
        if b"\0" in data:  # binary (figures)
            continue
        for lineno, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
            hits += [f"{path.relative_to(ROOT)}:{lineno}: {line.strip()}" for bad in FORBIDDEN if bad in line]
    return hits


def test_no_tracked_file_names_a_machine_path_or_private_notes() -> None:
    files = tracked_files()
    assert any(p.name == "reference_numbers.py" for p in files)  # the listing worked
    hits = forbidden_lines(files)
    assert not hits, "use $LIT_GANS_DATA_DIR / ../shared/data and benchmarks/reference_numbers.py instead:\n" + "\n".join(hits)


@pytest.mark.parametrize("needle", FORBIDDEN)
def test_the_scan_finds_each_forbidden_string(needle: str) -> None:
    path = ROOT / "tests" / f"_scan_probe_{FORBIDDEN.index(needle)}.txt"  # under ROOT: hits are relative to it
    try:
        path.write_text(f"first line\ndata = '{needle}x'\n")
        assert forbidden_lines([path]) == [f"tests/{path.name}:2: data = '{needle}x'"]
    finally:
        path.unlink()
