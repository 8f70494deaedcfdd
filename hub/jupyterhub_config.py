"""JupyterHub for the course on one machine (docs/deploy.md). tests/test_hub.py runs this file.

Everything that differs between machines is read from the environment, with the deployed
defaults beside it; the login is NOT configured here: the university's authenticator is set in
a second file that loads this one (docs/deploy.md), the test's shared password in the test's.

    COURSE_ENV       the course's Python environment, installed once for all users
                     (its bin/ has jupyterhub-singleuser, nbgrader, configurable-http-proxy)
    COURSE_DATA      the staged data sets, one read-only copy (students' LABUTILS_DATA)
    COURSE_JUPYTER   folder with the system-wide nbgrader_config.py (hub/jupyter/ here)
    NBGRADER_EXCHANGE  nbgrader's exchange (mode 1777, on shared storage beyond one machine)
    COURSE_HUB_STATE   where the hub keeps its database, cookie secret and proxy token
    COURSE_HUB_URL     the address the proxy listens on
"""

import os
from pathlib import Path

c = get_config()  # noqa: F821  (injected by traitlets)

COURSE_ENV = Path(os.environ.get("COURSE_ENV", "/opt/course/venv"))
COURSE_DATA = os.environ.get("COURSE_DATA", "/srv/course/data")
COURSE_JUPYTER = os.environ.get("COURSE_JUPYTER", "/etc/jupyter")
NBGRADER_EXCHANGE = os.environ.get("NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")
HUB_STATE = Path(os.environ.get("COURSE_HUB_STATE", "/srv/jupyterhub"))

c.JupyterHub.bind_url = os.environ.get("COURSE_HUB_URL", "http://127.0.0.1:8000")
# The hub's own API stays on loopback; the proxy (configurable-http-proxy, from npm) in front.
c.JupyterHub.hub_ip = "127.0.0.1"
c.ConfigurableHTTPProxy.command = [str(COURSE_ENV / "bin" / "configurable-http-proxy")]
c.JupyterHub.db_url = f"sqlite:///{HUB_STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(HUB_STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(HUB_STATE / "jupyterhub.pid")
# Stopping the hub stops the proxy and every student's server with it.
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

# Each student's JupyterLab runs as their own Unix user, in their home, from the course's
# environment (one installation for everyone: no per-user pip install of torch).
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(COURSE_ENV / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.Spawner.environment = {
    # labutils reads the data from here and never downloads (the copy is read-only)
    "LABUTILS_DATA": COURSE_DATA,
    # nbgrader's exchange and course id for every user (hub/jupyter/nbgrader_config.py)
    "JUPYTER_CONFIG_PATH": COURSE_JUPYTER,
    "NBGRADER_EXCHANGE": NBGRADER_EXCHANGE,
    # nbgrader's validate and submit shell out to jupyter and alembic: the env's bin/ first
    "PATH": f"{COURSE_ENV / 'bin'}:/usr/local/bin:/usr/bin:/bin",
}
