"""Errors a user can act on: each message names the file, row or frame and what to do."""


class TsmsnetError(Exception):
    """Base of every error tsmsnet raises on purpose (bad input, bad config, missing models)."""


class InputError(TsmsnetError):
    """The data given to us is unusable as it is; the message says where and how to fix it."""


class FramesError(InputError):
    """A frames folder or video file cannot be read as a clean, consecutive sequence."""


class AnnotationError(InputError):
    """An annotation workbook or sheet is missing, malformed or inconsistent with the frames."""


class NoFaceError(InputError):
    """The face detector found no face where one is required."""


class ConfigError(TsmsnetError):
    """The configuration is inconsistent (beyond what the JSON schema can say)."""


def one_line(message: object) -> str:
    """A message on one line (zarr, openpyxl and jsonschema texts may span several)."""
    return " ".join(part.strip() for part in str(message).splitlines() if part.strip())
