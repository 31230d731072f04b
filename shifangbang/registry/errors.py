"""The registry's errors: Chinese messages shown to the user as they are."""

from ..errors import DomainError

CONFLICT_MESSAGE = "该作坊已被他人修改，您的修改未保存。请查看最新内容后重新提交。"


class RegistryError(DomainError):
    """A rule violation; the message is Chinese and shown to the user as is."""


class ValidationError(RegistryError):
    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("；".join(errors.values()))


class ConflictError(RegistryError):
    def __init__(self, message: str = CONFLICT_MESSAGE):
        super().__init__(message)


class ImportFileError(RegistryError):
    """The file as a whole cannot be read (format, encoding, header)."""
