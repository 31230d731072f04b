"""Complaint photos: checked with Pillow, re-encoded to JPEG, resized, stripped of all metadata.

A phone photo carries the GPS position of whoever took it (often the reporter's home or work):
we keep only pixels. The picture is turned upright first (EXIF orientation) because the
orientation tag goes with the rest of the metadata.
"""

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import DomainError

MAX_PHOTOS = 3
MAX_BYTES = 8 * 1024 * 1024  # per uploaded file, before re-encoding
# Pixels, read from the file header before anything is decoded. A phone photo is 12–24 MP in its
# default mode; JPEG (what phones write) is then decoded at a reduced scale (draft), so even the
# largest costs little. Other formats decode in full, and a tiny PNG can declare a huge canvas
# (a decompression bomb), so they get a lower cap: a phone screenshot is ~3 MP.
MAX_PIXELS = 24_000_000
MAX_PIXELS_LOSSLESS = 16_000_000
DRAFT_FORMATS = {"JPEG", "MPO"}
MAX_SIDE = 1600  # px, longest side after re-encoding: plenty to read a label
JPEG_QUALITY = 82
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "BMP", "MPO"}  # MPO: some phones' JPEG variant


Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's own guard, for any image opened in this process


class PhotoError(DomainError):
    """A refused upload; the message is Chinese and names the file."""


@dataclass(frozen=True)
class Photo:
    mime: str
    width: int
    height: int
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


def _open_checked(data: bytes, label: str) -> Image.Image:
    with warnings.catch_warnings():
        # Pillow warns (rather than raises) between MAX_IMAGE_PIXELS and twice that: refuse both.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            probe = Image.open(io.BytesIO(data))
            if probe.format not in ACCEPTED_FORMATS:
                raise PhotoError(f"{label}不是支持的图片格式（请上传 JPG、PNG 或 WebP 照片）。")
            cap = MAX_PIXELS if probe.format in DRAFT_FORMATS else MAX_PIXELS_LOSSLESS
            if probe.width * probe.height > cap:
                raise PhotoError(
                    f"{label}的像素尺寸过大（{probe.width}×{probe.height}，超过 {cap // 1_000_000} "
                    "百万像素），请用手机相机的普通模式拍摄，或压缩后再上传。"
                )
            probe.verify()  # structural check; the object is unusable afterwards
            image = Image.open(io.BytesIO(data))
            if image.format in DRAFT_FORMATS:
                image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # decode at 1/2, 1/4 or 1/8 scale
            image.load()
        except PhotoError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PhotoError(f"{label}的像素尺寸过大，请压缩后再上传。") from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
            raise PhotoError(f"{label}不是有效的图片文件，无法识别。") from None
    return image


def process(data: bytes, label: str = "照片") -> Photo:
    """Verify and re-encode one upload; raises PhotoError with a Chinese message."""
    if not data:
        raise PhotoError(f"{label}是空文件。")
    if len(data) > MAX_BYTES:
        raise PhotoError(f"{label}超过 {MAX_BYTES // (1024 * 1024)} MB，请压缩后再上传。")
    image = _open_checked(data, label)
    try:
        image = ImageOps.exif_transpose(image)  # apply orientation before the tag is dropped
    except Exception:  # a broken orientation tag is not worth refusing the photo for
        pass
    if image.mode in ("RGBA", "LA", "P", "PA"):
        image = image.convert("RGBA")
        flat = Image.new("RGB", image.size, "white")
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    elif image.mode != "RGB":
        image = image.convert("RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # A fresh RGB image carries no info dict: no EXIF, XMP, ICC or comments are written.
    clean = Image.new("RGB", image.size)
    clean.paste(image)
    clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return Photo(mime="image/jpeg", width=clean.width, height=clean.height, data=out.getvalue())


def process_uploads(files: list[tuple[str, bytes]]) -> list[Photo]:
    """[(filename, bytes)] → photos; empty file inputs are skipped. Raises PhotoError."""
    files = [(name, data) for name, data in files if name or data]
    if len(files) > MAX_PHOTOS:
        raise PhotoError(f"最多上传 {MAX_PHOTOS} 张照片。")
    return [
        process(data, f"第 {i} 张照片（{name}）" if name else f"第 {i} 张照片")
        for i, (name, data) in enumerate(files, 1)
    ]
