"""deploy/z2jh-values.yaml, the Zero to JupyterHub values for the course past one machine: the students'
image is the repository's repo2docker (Binder) build at the release course.toml names, with nbgitpuller
in it; memory guarantee and limit as measured on the one-machine hub; idle culling on; hub restarts
keep the students' servers, as deploy/jupyterhub_config.py does."""

import re
import tomllib

import yaml
from jupyterhub.traitlets import ByteSpecification

from servers import ROOT

VALUES = yaml.safe_load((ROOT / "deploy" / "z2jh-values.yaml").read_text())
COURSE = tomllib.loads((ROOT / "course.toml").read_text())
MB = 2**20


def megabytes(spec):
    return ByteSpecification().validate(None, spec) / MB


def test_the_students_image_is_the_repositorys_repo2docker_build_at_the_release():
    image = VALUES["singleuser"]["image"]
    owner_repo = COURSE["repository"].removeprefix("https://github.com/")
    assert image["name"].startswith("ghcr.io/") and owner_repo.split("/")[1] in image["name"]
    assert image["tag"] == COURSE["release"]
    text = (ROOT / "deploy" / "z2jh-values.yaml").read_text()
    build = re.search(r"jupyter-repo2docker .*?--ref (\S+) --image-name (\S+)\s.*?(https://\S+)", text, re.S)
    assert build, "the values file says how the image is built"
    assert build.groups() == (COURSE["release"], f"{image['name']}:{image['tag']}", COURSE["repository"])
    assert VALUES["singleuser"]["defaultUrl"] == "/lab"


def test_nbgitpuller_is_in_the_image():
    pins = (ROOT / "binder" / "requirements.txt").read_text().lower()
    assert re.search(r"^nbgitpuller==", pins, re.M), "binder/requirements.txt (the image) lacks nbgitpuller"


def test_memory_guarantee_and_limit_follow_the_measured_500_mb_per_student():
    memory = VALUES["singleuser"]["memory"]
    guarantee, limit = megabytes(memory["guarantee"]), megabytes(memory["limit"])
    # Measured: server about 150 MB, a kernel with torch about 280 MB, up to 370 MB in the heaviest notebook.
    assert 450 <= guarantee <= 600
    assert guarantee < limit <= 2048
    cpu = VALUES["singleuser"]["cpu"]
    assert 0 < cpu["guarantee"] <= cpu["limit"]


def test_idle_culling_is_on_and_never_deletes_students():
    cull = VALUES["cull"]
    assert cull["enabled"] is True
    assert 600 <= cull["timeout"] <= 4 * 3600 and 0 < cull["every"] <= cull["timeout"]
    assert cull["users"] is False


def test_hub_restarts_keep_the_students_servers():
    hub = VALUES["hub"]["config"]["JupyterHub"]
    assert hub["cleanup_servers"] is False
    assert hub["authenticator_class"] != "dummy", "a cluster needs a real login, not the demo password"
