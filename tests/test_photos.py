"""Photo intake: metadata stripped (GPS above all), orientation kept, size bounded, junk refused."""

import io

import pytest
from PIL import Image

from shifangbang import photos
from tests import complaint_data as cd


def _exif(data: bytes):
    return Image.open(io.BytesIO(data)).getexif()


def test_source_picture_really_has_gps():
    exif = _exif(cd.jpeg_with_gps())
    assert exif.get_ifd(0x8825)[2] == (40.0, 39.0, 30.5)


def test_reencoded_jpeg_has_no_exif_and_is_upright_and_bounded():
    p = photos.process(cd.jpeg_with_gps(size=(2400, 1800), orientation=6))
    assert p.mime == "image/jpeg" and p.size == len(p.data)
    img = Image.open(io.BytesIO(p.data))
    assert img.format == "JPEG"
    assert len(img.getexif()) == 0 and "exif" not in img.info
    assert b"Exif" not in p.data and b"TestPhone" not in p.data
    # Orientation 6 (rotate 90° clockwise) applied before the tag was dropped: portrait now.
    assert (p.width, p.height) == img.size == (1200, 1600)
    # The blue block was top-left in the stored pixels; after the turn it is top-right.
    r, g, b = img.convert("RGB").getpixel((img.width - 5, 5))
    assert b > 150 and r < 100


def test_small_picture_is_not_enlarged():
    p = photos.process(cd.jpeg_with_gps(size=(640, 480), orientation=None))
    assert (p.width, p.height) == (640, 480) and len(_exif(p.data)) == 0


def test_png_with_alpha_becomes_jpeg():
    p = photos.process(cd.png())
    assert p.mime == "image/jpeg" and Image.open(io.BytesIO(p.data)).mode == "RGB"


@pytest.mark.parametrize(
    "data,message",
    [
        (b"%PDF-1.4 not a picture at all", "不是有效的图片"),
        (b"", "空文件"),
        (cd.jpeg_with_gps()[:2000], "不是有效的图片"),  # truncated
    ],
)
def test_non_images_refused(data, message):
    with pytest.raises(photos.PhotoError, match=message):
        photos.process(data, "第 1 张照片")


def test_decompression_bomb_refused():
    data = cd.bomb()
    assert len(data) < 200_000  # tiny on the wire …
    with pytest.raises(photos.PhotoError, match="像素尺寸过大"):  # … 100 megapixels unpacked
        photos.process(data)


def test_oversized_file_refused(monkeypatch):
    monkeypatch.setattr(photos, "MAX_BYTES", 10_000)
    with pytest.raises(photos.PhotoError, match="MB"):
        photos.process(cd.jpeg_with_gps())


def test_at_most_three_photos():
    one = cd.png()
    assert len(photos.process_uploads([("a.png", one)] * 3)) == 3
    with pytest.raises(photos.PhotoError, match="最多"):
        photos.process_uploads([("a.png", one)] * 4)
    assert photos.process_uploads([("", b"")]) == []  # an empty file input
