"""The pull step of emofeat's deployments: start a flow run in the worker's emofeat checkout.

``flows/prefect.yaml`` builds and pushes nothing (the code is already on the worker's machine);
its one pull step, :func:`enter_checkout`, moves each flow run into the repository root an
environment variable of the worker names, so the entry points (``flows/...``) and relative
store paths resolve there. Prefect's own ``set_working_directory`` would fail with a bare
"file not found" when the variable is unset on a worker; this step says what to set instead.
The variable is read when the run starts on the worker, never when the file is deployed, so
one deployment serves workers whose checkouts live in different places.
"""

from __future__ import annotations

import os
from pathlib import Path

from emofeat.errors import ConfigError

#: The environment variable that names a worker's checkout (the directory holding ``flows/``).
VARIABLE = "EMOFEAT_CHECKOUT"


def enter_checkout(variable: str = VARIABLE) -> dict[str, str]:
    """Change into the checkout ``$variable`` names; return it as ``{"directory": path}``.

    Raises
    ------
    ConfigError
        When the variable is unset or empty, or names no directory holding ``flows/``; the
        message says which, and how to start the worker with it set.
    """
    how = f"start the worker as `{variable}=/path/to/emofeat prefect worker start --pool emofeat`"
    value = os.environ.get(variable, "").strip()
    if not value:
        raise ConfigError(
            f"{variable} is not set on this worker: it names the emofeat checkout the flows run from; {how}"
        )
    checkout = Path(value).expanduser()
    if not checkout.is_dir():
        raise ConfigError(f"{variable}={value!r} is not a directory on this worker; {how}")
    if not (checkout / "flows").is_dir():
        raise ConfigError(
            f"{variable}={value!r} holds no flows/ directory: it must name an emofeat checkout's root; {how}"
        )
    os.chdir(checkout)
    return {"directory": str(checkout)}
