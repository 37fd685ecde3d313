"""The Helm adapter: the module runtime's only way to render, install and remove releases.

It wraps the `helm` binary (v3.13+ and v4) through `runner.run`; see client.py for the
decisions. The runtime builds one `HelmClient` per operator namespace.
"""

from .chart import is_helm_module, prepare_chart
from .client import DeleteReleaseRecord, HelmClient
from .errors import HelmError, ReleaseNotOwnedError
from .inputs import inputs_checksum
from .release import (
    CHECKSUM_LABEL,
    INPUTS_CHECKSUM_LABEL,
    ManifestObject,
    ReleaseInfo,
    inputs_unchanged,
    manifest_checksum,
    manifest_objects,
    release_record_name,
    should_upgrade,
)
from .version import HelmVersion

__all__ = [
    "CHECKSUM_LABEL",
    "DeleteReleaseRecord",
    "HelmClient",
    "HelmError",
    "HelmVersion",
    "INPUTS_CHECKSUM_LABEL",
    "ManifestObject",
    "ReleaseInfo",
    "ReleaseNotOwnedError",
    "inputs_checksum",
    "inputs_unchanged",
    "is_helm_module",
    "manifest_checksum",
    "manifest_objects",
    "prepare_chart",
    "release_record_name",
    "should_upgrade",
]
