"""nbgrader's system-wide configuration for every user of the hub (students and instructor).

Deployed as /etc/jupyter/nbgrader_config.py; hub/jupyterhub_config.py puts this folder on the
single-user servers' JUPYTER_CONFIG_PATH. The instructor's course folder has the course's own
nbgrader_config.py on top (the repository's, which names the same course id).
"""

import os

c = get_config()  # noqa: F821  (injected by traitlets)

# The exchange: created by root with mode 1777 (everyone writes, nobody removes another's).
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")
c.CourseDirectory.course_id = "dl-image-recognition"
