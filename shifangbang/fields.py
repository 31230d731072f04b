"""Free-text input rules of the action programme's domain modules: trimmed, required when asked,
and refused (never cut) when longer than its column."""


def text(value, label: str, max_len: int, error: type[Exception], required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise error(f"请填写{label}。")
    if len(value) > max_len:
        raise error(f"{label}不能超过 {max_len} 字（现有 {len(value)} 字）。")
    return value
