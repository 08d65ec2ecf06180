"""The site's one hook: the notebooks of `notebooks/` as pages under
`notebooks/`.

The notebooks live at the repository's root, where the test suite executes
them (tests/test_notebooks.py) and the sdist takes them, and mkdocs reads
only `docs/`. A symbolic link `docs/notebooks` would do the same on Linux
and macOS, but is a plain text file in a Windows checkout; this hook adds
each notebook as a file of the site instead, read from where it is.
`mkdocs serve` also watches the notebooks and the package, whose
docstrings make the API reference.
"""

import pathlib

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


# Before mkdocs-jupyter's own on_files (priority 0), which makes the
# notebooks it finds pages.
@event_priority(100)
def on_files(files, config):
    # A file of the repository's root rather than of docs/: its source is
    # `src_dir / src_uri`, which mkdocs-jupyter's wrapper of the file keeps
    # (it loses the `abs_src_path` of `File.generated`).
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        files.append(
            File(
                f"notebooks/{path.name}",
                src_dir=str(ROOT),
                dest_dir=config.site_dir,
                use_directory_urls=config.use_directory_urls,
            )
        )
    return files


def on_serve(server, config, builder):
    server.watch(str(NOTEBOOKS))
    server.watch(str(ROOT / "keras_inits"))
    return server
