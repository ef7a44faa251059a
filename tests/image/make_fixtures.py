#!/usr/bin/python3
"""Regenerates the image fixtures of tests/image/data from /work/shared/fixtures/images.

Each fixture <name> comes with <name>.pix: the pixels PIL decodes, in the channel order OpenCV's
cv::imdecode(IMREAD_UNCHANGED) produces (BGR / BGRA / GRAY), as
    b"<rows> <cols> <channels> <bits>\n" + raw interleaved HWC bytes (16-bit: little endian).
Run: /usr/bin/python3 tests/image/make_fixtures.py [source_dir]
"""
import io
import os
import sys

from PIL import Image

SRC = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/fixtures/images"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def to_cv_order(im):
    """PIL image → (channels, bytes) in OpenCV order."""
    if im.mode == "L":
        return 1, im.tobytes()
    if im.mode == "RGB":
        r, g, b = im.split()
        return 3, Image.merge("RGB", (b, g, r)).tobytes()
    if im.mode == "RGBA":
        r, g, b, a = im.split()
        return 4, Image.merge("RGBA", (b, g, r, a)).tobytes()
    raise ValueError(im.mode)


def write(name, data, decoded_pixels):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    rows, cols, channels, bits, raw = decoded_pixels
    assert len(raw) == rows * cols * channels * bits // 8
    with open(os.path.join(OUT, name + ".pix"), "wb") as f:
        f.write(f"{rows} {cols} {channels} {bits}\n".encode())
        f.write(raw)
    print(f"{name}: {len(data)} bytes, {cols}x{rows}x{channels} ({bits}-bit)")


def encode(im, fmt, **kw):
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def decoded8(data, convert=None):
    im = Image.open(io.BytesIO(data))
    im.load()
    if convert:
        im = im.convert(convert)
    ch, raw = to_cv_order(im)
    return im.height, im.width, ch, 8, raw


def main():
    os.makedirs(OUT, exist_ok=True)
    fruits = Image.open(os.path.join(SRC, "fruits.jpg")).convert("RGB")
    home = Image.open(os.path.join(SRC, "home.jpg")).convert("RGB")
    messi = Image.open(os.path.join(SRC, "messi5.jpg")).convert("RGB")
    court = Image.open(os.path.join(SRC, "basketball1.png")).convert("L")

    # 64x48 colour JPEG (4:2:0, quality 90) and its PIL (libjpeg) decoding.
    color = fruits.crop((200, 180, 264, 228))
    data = encode(color, "JPEG", quality=90)
    write("color.jpg", data, decoded8(data))

    # 32x24 grayscale JPEG.
    gray_j = messi.crop((300, 60, 332, 84)).convert("L")
    data = encode(gray_j, "JPEG", quality=90)
    write("gray.jpg", data, decoded8(data))

    # 64x48 colour PNG (exact pixels; also the input of the resize tests).
    data = encode(home.crop((150, 150, 214, 198)), "PNG", optimize=True)
    write("color.png", data, decoded8(data))

    # 64x48 8-bit grayscale PNG.
    data = encode(court.crop((300, 200, 364, 248)), "PNG", optimize=True)
    write("gray.png", data, decoded8(data))

    # 24x16 RGBA PNG with an alpha gradient → BGRA.
    rgba = home.crop((40, 40, 64, 56)).convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize((24, 16)))
    data = encode(rgba, "PNG")
    write("rgba.png", data, decoded8(data))

    # 16x12 gray+alpha PNG → BGRA with B=G=R.
    la = court.crop((100, 100, 116, 112)).convert("LA")
    la.putalpha(Image.linear_gradient("L").transpose(Image.Transpose.ROTATE_90).resize((16, 12)))
    data = encode(la, "PNG")
    write("gray_alpha.png", data, decoded8(data, "RGBA"))

    # 16x12 palette PNG with a tRNS chunk → BGRA.
    pal = fruits.crop((100, 100, 116, 112)).quantize(colors=16)
    data = encode(pal, "PNG", transparency=3)
    write("palette_trns.png", data, decoded8(data, "RGBA"))

    # 16x12 RGB PNG with a tRNS colour key → BGRA (OpenCV gives 4 channels here).
    rgb = home.crop((0, 0, 16, 12))
    key = rgb.getpixel((0, 0))
    data = encode(rgb, "PNG", transparency=key)
    write("rgb_trns.png", data, decoded8(data, "RGBA"))

    # 16x12 16-bit grayscale PNG → U16 values (OpenCV keeps 16 bits with IMREAD_UNCHANGED).
    g16 = Image.new("I;16", (16, 12))
    g16.putdata([(x * 4099 + y * 257 * 7) % 65536 for y in range(12) for x in range(16)])
    data = encode(g16, "PNG")
    im = Image.open(io.BytesIO(data))
    im.load()
    assert im.mode in ("I;16", "I"), im.mode
    vals = list(im.getdata())
    raw = b"".join(int(v).to_bytes(2, "little") for v in vals)
    write("gray16.png", data, (12, 16, 1, 16, raw))

    # 16x12 CMYK JPEG (Adobe); only the decoded shape is checked.
    cmyk = fruits.crop((300, 300, 316, 312)).convert("CMYK")
    data = encode(cmyk, "JPEG", quality=95)
    with open(os.path.join(OUT, "cmyk.jpg"), "wb") as f:
        f.write(data)
    print(f"cmyk.jpg: {len(data)} bytes")


if __name__ == "__main__":
    main()
