"""Exceptions raised by twin_bridge; all derive from :class:`TwinBridgeError`."""


class TwinBridgeError(Exception):
    """Base class of every error twin_bridge raises on purpose."""


class ResourceNotFoundError(TwinBridgeError):
    """A ``model://``, ``package://`` or file reference could not be resolved."""


class WorldLoadError(TwinBridgeError):
    """A world (SDFormat) file is missing, malformed or uses something unsupported.

    The message names the file and, where known, the element.
    """


class RobotDescriptionError(TwinBridgeError):
    """A robot description (URDF/xacro) is missing, malformed or cannot be simulated."""


class BackendError(TwinBridgeError):
    """A simulator backend cannot do what was asked (e.g. unknown joint, no lidar)."""


class ConfigError(TwinBridgeError):
    """A configuration file or value (bridge YAML, launch argument) is malformed or inconsistent.

    The message names the file and the entry or key at fault.
    """
