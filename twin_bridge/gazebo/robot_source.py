"""What robot_state_publisher publishes as ``robot_description`` for a robot file."""

from __future__ import annotations

from pathlib import Path

from twin_bridge.core.name_value import parse_name_value_text

__all__ = ['robot_description_xml']


def robot_description_xml(robot_description_file: str, xacro_args: str = '') -> str:
    """What robot_state_publisher gets as ``robot_description``: the xacro-expanded URDF, or
    for an SDF model (``model.sdf``) the URDF it converts to (same links, joints, frames).

    :raise TwinBridgeError: naming the file or the bad xacro argument
    """
    from twin_bridge.description.robot_description import (
        default_robot_path,
        expand_xacro,
        load_robot_description,
    )
    from twin_bridge.description.sdf_robot import is_sdf_file

    path = Path(robot_description_file) if robot_description_file.strip() \
        else default_robot_path()
    if is_sdf_file(path):
        return load_robot_description(path).urdf_xml
    return expand_xacro(path, parse_name_value_text(xacro_args, 'xacro_args'))
